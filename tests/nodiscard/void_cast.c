/* SPDX-License-Identifier: Apache-2.0 */
/* In C23 and C++17 a (void) cast silences [[nodiscard]]. */
#include <cordon/cordon.h>

int main(void) {
    cordon_mutex m = CORDON_MUTEX_INIT;
    (void)cordon_mutex_trylock(&m);
    cordon_mutex_unlock(&m);
    return 0;
}

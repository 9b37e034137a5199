/* SPDX-License-Identifier: Apache-2.0 */
/* Results that must not be ignored: compiled with -Werror, each of these must be refused. */
#include <cordon/cordon.h>

int main(void) {
    cordon_mutex m = CORDON_MUTEX_INIT;
    cordon_mutex_trylock(&m);
    return 0;
}

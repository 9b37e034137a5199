# SPDX-License-Identifier: Apache-2.0
# test_compute_math calls no library function itself (vmath.h is header-only), so the harness's
# references into the library come after cordon_static on the link line: name it once more.
set(CORDON_TEST_EXTRA_LIBS cordon_static)

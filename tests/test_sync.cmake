# SPDX-License-Identifier: Apache-2.0
# The mutex and condvar protocol, model-checked by SPIN (skipped when spin is not installed).
set(_spin_model "${CMAKE_CURRENT_SOURCE_DIR}/spin/mutex_condvar.pml")
set(_spin_run "${CMAKE_CURRENT_SOURCE_DIR}/run-spin.sh")
add_test(NAME spin.mutex_condvar_has_no_deadlock_or_lost_wakeup
  COMMAND sh "${_spin_run}" "${_spin_model}" "${CMAKE_CURRENT_BINARY_DIR}/spin-clean" clean)
add_test(NAME spin.model_catches_a_planted_lost_wakeup
  COMMAND sh "${_spin_run}" "${_spin_model}" "${CMAKE_CURRENT_BINARY_DIR}/spin-lost" error -DLOST_WAKEUP)
add_test(NAME spin.model_catches_an_unlock_without_wake
  COMMAND sh "${_spin_run}" "${_spin_model}" "${CMAKE_CURRENT_BINARY_DIR}/spin-nowake" error -DNO_UNLOCK_WAKE)
add_test(NAME spin.model_catches_a_woken_thread_dropping_the_parked_claim
  COMMAND sh "${_spin_run}" "${_spin_model}" "${CMAKE_CURRENT_BINARY_DIR}/spin-woken1" error -DWOKEN_TAKES_AS_1)
set_tests_properties(spin.mutex_condvar_has_no_deadlock_or_lost_wakeup spin.model_catches_a_planted_lost_wakeup
  spin.model_catches_an_unlock_without_wake spin.model_catches_a_woken_thread_dropping_the_parked_claim PROPERTIES SKIP_RETURN_CODE 77 LABELS "spin;sync" TIMEOUT 600)

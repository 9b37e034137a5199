# SPDX-License-Identifier: Apache-2.0
# Warning flags for every target of the project: gcc and clang, warnings are errors.
add_library(cordon_warnings INTERFACE)
target_compile_options(cordon_warnings INTERFACE
  -Wall -Wextra -Wconversion -Wshadow -Wstrict-prototypes -Wvla -Wpedantic
  -Wmissing-prototypes -Wformat=2 -Wundef
  $<$<BOOL:${CORDON_WERROR}>:-Werror>)

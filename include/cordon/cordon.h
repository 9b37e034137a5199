/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — umbrella header: includes the whole public API. */
#ifndef CORDON_CORDON_H
#define CORDON_CORDON_H

#include "cordon/export.h"
#include "cordon/version.h"
#include "cordon/status.h"
#include "cordon/system.h"
#include "cordon/pages.h"
#include "cordon/memory.h"
#include "cordon/futex.h"
#include "cordon/sync.h"
#include "cordon/thread.h"
#include "cordon/memory_wait.h"
#include "cordon/trap.h"
#include "cordon/device.h"
#include "cordon/tensor.h"
#include "cordon/ops.h"
#include "cordon/safetensors.h"

#endif /* CORDON_CORDON_H */

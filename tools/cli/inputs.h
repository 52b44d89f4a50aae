/* Request inputs from the command line: NAME=VALUE where VALUE is a .npy
 * file, a .jpg/.png picture (float32 BGR, as cv2.imread gives it) or JSON
 * typed by the signature (as the REST API reads it). */
#ifndef PL_CLI_INPUTS_H
#define PL_CLI_INPUTS_H

#include "base/status.h"
#include "runtime/model.h"
#include "tensor/tensor.h"

#define PL_CLI_MAX_INPUTS 64

typedef struct pl_cli_inputs {
    int num;
    char *names[PL_CLI_MAX_INPUTS];        /* borrowed from argv */
    const char *values[PL_CLI_MAX_INPUTS]; /* borrowed from argv */
    pl_tensor *tensors[PL_CLI_MAX_INPUTS]; /* filled by pl_cli_inputs_read */
} pl_cli_inputs;

/* Takes "NAME=VALUE" (splitting argv's string in place). Returns -1 on a malformed
 * argument or too many inputs. */
int pl_cli_inputs_add(pl_cli_inputs *in, char *arg);
/* Reads every value; JSON values are typed by `sig`'s inputs. */
pl_status pl_cli_inputs_read(pl_cli_inputs *in, const pl_signature *sig);
void pl_cli_inputs_deinit(pl_cli_inputs *in);

#endif

/* Printing what several commands show: signature tensors as table rows,
 * shapes in Python's tuple notation, and JSON string literals. */
#ifndef PL_CLI_SHOW_H
#define PL_CLI_SHOW_H

#include <stddef.h>
#include <stdio.h>

#include "base/strbuf.h"
#include "runtime/model.h"

/* "(-1, 10)", "(3,)", "()" or "unknown rank" for rank -1. */
void pl_cli_shape_text(int rank, const int64_t *dims, char *buf, size_t size);
/* One aligned row: alias, dtype, shape, tensor name. */
void pl_cli_print_tensor(FILE *f, const pl_tensor_info *t);
/* A signature as metadata and inspect print it, indented by `indent` spaces. */
void pl_cli_print_signature(FILE *f, const pl_signature *sig, int indent);
/* Appends s as a JSON string literal (quotes included). */
void pl_cli_json_string(pl_strbuf *b, const char *s);
/* {"method_name": ..., "inputs": {alias: {"dtype", "shape", "name"}}, "outputs": ...};
 * an unknown rank is a null shape. */
void pl_cli_json_signature(pl_strbuf *b, const pl_signature *sig);

#endif

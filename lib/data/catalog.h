/* catalog.h: the datasets disq knows, one row each in catalog.c.  `dsload
 * --list`, its usage text and the tests all read this table, so a new
 * procedural dataset is its row, its renderer (render_NAME.c) and the
 * renderer's declaration in render.h. */
#ifndef DISQ_CATALOG_H
#define DISQ_CATALOG_H

#include "data/spec.h"

/* NULL when the name is unknown. */
const dq_dataset_spec *dq_dataset_spec_find(const char *name);
int dq_dataset_spec_count(void);
const dq_dataset_spec *dq_dataset_spec_at(int i);

#endif

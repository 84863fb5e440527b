/* labels.h: integer labels to dense class indices, as numpy's np.unique(...,
 * return_inverse=True) and sklearn's LabelEncoder number them: classes in
 * ascending order of value, index 0 for the smallest. */
#ifndef DISQ_LABELS_H
#define DISQ_LABELS_H

#include <stdint.h>

/* Encode n values read at v[0], v[stride], v[2*stride], ... into codes[n]
 * (0..K-1).  Returns K.  When classes is not NULL, *classes receives a
 * malloc'd array of the K distinct values in ascending order. */
int dq_labels_encode(const int32_t *v, int64_t n, int64_t stride, int32_t *codes,
                     int32_t **classes);

/* Encode values against a known ascending class list; values not in it get -1
 * (a test label never seen in training). */
void dq_labels_lookup(const int32_t *v, int64_t n, int64_t stride, const int32_t *classes,
                      int k, int32_t *codes);

#endif

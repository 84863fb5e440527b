/* selection.h: which images a run streams, as lists of indices; all
 * deterministic in the seed (selection.c). */
#ifndef DISQ_SELECTION_H
#define DISQ_SELECTION_H

#include <stdint.h>

#include "data/spec.h"

typedef struct {
    int64_t *index;
    int32_t *vote, *fixed; /* intervention batches only, else NULL */
    int64_t n;
} dq_selection;

void dq_selection_free(dq_selection *s);
void dq_select_all(const dq_dataset_spec *s, dq_selection *out);
/* n tuples with every grid dimension drawn uniformly (the evaluation protocol). */
void dq_select_sample(const dq_dataset_spec *s, int64_t n, uint64_t seed, dq_selection *out);
/* 0 train, 1 val, 2 test: the seeded 80/10/10 split, in its shuffled order. */
void dq_select_split(const dq_dataset_spec *s, int which, uint64_t seed, dq_selection *out);
/* Fisher-Yates permutation of sel->index in place for epoch `epoch`. */
void dq_select_shuffle(dq_selection *sel, uint64_t seed, uint64_t epoch);
/* n uniform draws from sel (with replacement). */
void dq_select_subsample(dq_selection *sel, int64_t n, uint64_t seed);
typedef enum { DQ_VOTES_FACTORVAE, DQ_VOTES_BETAVAE } dq_vote_kind;
/* votes of group G: factorvae G rows sharing factor `fixed`; betavae G pairs
 * (rows 2j, 2j+1) sharing it. */
void dq_select_votes(const dq_dataset_spec *s, dq_vote_kind kind, int64_t votes, int group,
                     uint64_t seed, dq_selection *out);

#endif

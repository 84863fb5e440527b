/* catalog.c: the table of datasets: each row's factor grid, image shape,
 * renderer and real-file reader. */
#include "data/catalog.h"

#include <string.h>

#include "data/file_reader.h"
#include "data/render.h"

#define PI2 6.283185307179586

static const dq_dataset_spec specs[] = {
    {.name = "dsprites",
     .ndims = 5,
     .dims = {{"shape", 3, 1, 3}, {"scale", 6, 0.5, 1.0}, {"orientation", 40, 0, PI2},
              {"pos_x", 32, 0, 1}, {"pos_y", 32, 0, 1}},
     .nuisance = -1, .height = 64, .width = 64, .channels = 1,
     .render = dq_render_dsprites, .render_version = 1,
     .read_file = dq_source_dsprites_npz,
     .files = {"dsprites/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz",
               "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"},
     .summary = "2D sprites (square, ellipse, heart), binary 0/255"},
    {.name = "shapes3d",
     .ndims = 6,
     .dims = {{"floor_hue", 10, 0, 0.9}, {"wall_hue", 10, 0, 0.9}, {"object_hue", 10, 0, 0.9},
              {"scale", 8, 0.75, 1.25}, {"shape", 4, 0, 3}, {"orientation", 15, -30, 30}},
     .nuisance = -1, .height = 64, .width = 64, .channels = 3,
     .render = dq_render_shapes3d, .render_version = 1,
     .read_file = dq_source_shapes3d_h5,
     .files = {"3dshapes/3dshapes.h5", "3dshapes.h5"},
     .summary = "3D room: floor, wall, cube/cylinder/sphere/capsule, hues, camera turn"},
    {.name = "mpi3d",
     .ndims = 7,
     .dims = {{"object_color", 6, 0, 5}, {"object_shape", 6, 0, 5}, {"object_size", 2, 0, 1},
              {"camera_height", 3, 0, 2}, {"background_color", 3, 0, 2},
              {"horizontal_axis", 40, 0, 39}, {"vertical_axis", 40, 0, 39}},
     .nuisance = -1, .height = 64, .width = 64, .channels = 3,
     .render = dq_render_mpi3d, .render_version = 1,
     .read_file = dq_source_mpi3d_npz,
     .files = {"mpi3d_toy/mpi3d_toy.npz", "mpi3d_realistic/mpi3d_realistic.npz",
               "mpi3d_real/mpi3d_real.npz", "mpi3d_toy.npz"},
     .summary = "object on a 2-DOF robot arm (MPI3D toy/realistic/real)"},
    {.name = "mpi3d-complex",
     .ndims = 7,
     .dims = {{"object_color", 4, 0, 3}, {"object_shape", 4, 0, 3}, {"object_size", 2, 0, 1},
              {"camera_height", 3, 0, 2}, {"background_color", 3, 0, 2},
              {"horizontal_axis", 40, 0, 39}, {"vertical_axis", 40, 0, 39}},
     .nuisance = -1, .height = 64, .width = 64, .channels = 3,
     .render = dq_render_mpi3d, .render_version = 1,
     .read_file = dq_source_mpi3d_npz,
     .files = {"mpi3d_complex/real3d_complicated_shapes_ordered.npz",
               "real3d_complicated_shapes_ordered.npz"},
     .summary = "MPI3D complex shapes (mug, ball, banana, cup); FactorQVAE's MPI3D"},
    {.name = "isaac3d",
     .ndims = 9,
     .dims = {{"object_shape", 3, 0, 2}, {"robot_x", 8, 0, 7}, {"robot_y", 5, 0, 4},
              {"camera_height", 4, 0, 3}, {"object_scale", 4, 0, 3},
              {"lighting_intensity", 4, 0, 3}, {"lighting_y_dir", 6, 0, 5},
              {"object_color", 4, 0, 3}, {"wall_color", 4, 0, 3}},
     .nuisance = -1, .height = 64, .width = 64, .channels = 3,
     .read_file = dq_source_isaac3d,
     .files = {"isaac3d", "Isaac3D_down128", "Isaac3D"},
     .summary = "robot arm scene (real file only: images/%06d.png + labels.npy)"},
    {.name = "smallnorb",
     .ndims = 5,
     .dims = {{"category", 5, 0, 4}, {"instance", 10, 0, 9}, {"elevation", 9, 30, 70},
              {"azimuth", 18, 0, 340}, {"lighting", 6, 0, 5}},
     .nuisance = 1, .height = 64, .width = 64, .channels = 1,
     .read_file = dq_source_smallnorb,
     .files = {"small_norb", "smallnorb"},
     .summary = "toy photographs, 96x96 resized (real file only; instance is nuisance)"},
    {.name = "cars3d",
     .ndims = 3,
     .dims = {{"elevation", 4, 0, 3}, {"azimuth", 24, 0, 23}, {"object", 183, 0, 182}},
     .nuisance = -1, .height = 64, .width = 64, .channels = 3,
     .read_file = dq_source_cars3d,
     .files = {"cars", "cars3d"},
     .summary = "rendered car models, 128x128 resized (real file only)"},
};

#define NSPECS ((int)(sizeof specs / sizeof specs[0]))

const dq_dataset_spec *dq_dataset_spec_find(const char *name) {
    for (int i = 0; i < NSPECS; i++)
        if (!strcmp(specs[i].name, name)) return &specs[i];
    return NULL;
}

int dq_dataset_spec_count(void) { return NSPECS; }
const dq_dataset_spec *dq_dataset_spec_at(int i) { return &specs[i]; }

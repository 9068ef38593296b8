/* filters.volume, the example stage of README's "Adding a stage". */
#ifndef CT_EXAMPLE_FILTERS_VOLUME_H
#define CT_EXAMPLE_FILTERS_VOLUME_H
#include "citytiler/stage.h"

extern const ct_stage_vtable filters_volume_stage;

#endif

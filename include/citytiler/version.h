#ifndef CITYTILER_VERSION_H
#define CITYTILER_VERSION_H
#define CT_VERSION_STRING "0.1.0"
/* Returns CT_VERSION_STRING. */
const char *ct_version(void);
#endif

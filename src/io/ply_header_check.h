/* Internal: a PLY model's header checked against the file's size before Assimp reads it.
 *
 * Assimp's PLY importer trusts the element counts of the header: a 178-byte file that
 * declares 4000000000 vertices made it allocate until the process was killed. This is
 * not a PLY reader: it parses the header only (format, elements, properties), works out
 * the least number of bytes the body must hold, and refuses a file that holds fewer. */
#ifndef CT_IO_PLY_HEADER_CHECK_H
#define CT_IO_PLY_HEADER_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "citytiler/context.h"

/* At most this many bytes are read looking for "end_header". */
#define CT_PLY_HEADER_MAX ((size_t)1 << 20)

/* 1 when `head` (the first n bytes of a file) starts like a PLY file: "ply" (any case,
 * as Assimp accepts) and a line end. */
int ct_ply_is_ply(const unsigned char *head, size_t n);

/* Checks a PLY header: `head` holds the first n bytes of the file (all of it, or at least
 * CT_PLY_HEADER_MAX bytes), `file_size` is the file's size in bytes (>= n). CT_OK when
 * the header ends (end_header), gives a known format, every count parses, and the body
 * after the header holds at least the bytes the declared elements need (binary: each
 * element's scalar property sizes plus the count size of its lists, one byte for a type
 * Assimp does not know; ascii: two bytes, "0 ", per value; an element without properties
 * at least one byte). Else CT_ERR_INPUT with a
 * message naming `name`, and for a short body the element, its count and the sizes.
 * Allocates nothing. */
ct_status ct_ply_header_check_buffer(ct_context *ctx, const char *name, const unsigned char *head, size_t n,
                                     uint64_t file_size);

/* For a model about to be handed to Assimp: when `path` is a regular file that is a PLY
 * (its content starts like one, or its name ends in ".ply"), reads the start of its
 * header and checks it as above. CT_OK for anything else (a file that cannot be opened
 * or is not a PLY: Assimp reports it). */
ct_status ct_ply_header_check(ct_context *ctx, const char *path);

#endif

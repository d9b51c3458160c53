/* A digest of every entry of a directory tree (path, type, mode, size, link target, content), to
 * prove that a command changed nothing. */
#pragma once

#include <stdint.h>

uint64_t tree_digest(const char *root);

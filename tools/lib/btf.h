/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HEAPSTAT_BTF_H
#define HEAPSTAT_BTF_H

#include <stdbool.h>
#include <bpf/btf.h>

bool kernel_has_btf(const char *name, int kind);
int kernel_btf_params(const char *typedef_name);
long long kernel_enumerator(const char *type, const char *name);
void kernel_btf_release(void);
bool kernel_btf_walked(void);

#endif

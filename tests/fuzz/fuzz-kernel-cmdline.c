/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootloader.h"
#include "parse-util.h"
#include "strv.h"

/*
 * The kernel command-line splitter (parse-util.c) and what is built on it: /proc/cmdline,
 * /etc/kernel/cmdline and the GRUB values go through it. No word is longer than the input, and
 * the words' length as the kernel gets them is bounded by the input's.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL, *value = NULL;
        _cleanup_(strv_freep) char **words = NULL, **found = NULL;
        size_t n = 0;

        /* the kernel's own limit is a few KiB; the bound on the splitter's memory is another's work */
        if (size > 64 * 1024)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;

        if (cmdline_split(text, &words) < 0)
                return 0;
        if (!words)
                abort();
        STRV_FOREACH(w, words) {
                if (strlen(*w) > strlen(text))
                        abort();
                n++;
        }
        if (n > strlen(text))
                abort();
        /* one space between words, quotes kept around a word with a space: never more than twice the input */
        if (cmdline_words_length(words) > 2 * strlen(text) + 2)
                abort();
        (void) cmdline_find(text, "iommu", &value);
        (void) cmdline_find_all(text, "kvm_amd.sev", &found);
        return 0;
}

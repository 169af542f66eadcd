/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootloader.h"
#include "parse-util.h"
#include "strv.h"

/*
 * The GRUB shell-subset evaluator (bootloader.c) on one file's text, with words to remove. Beyond
 * not crashing: an edited file evaluates again, and the words of the command line that pass
 * kernel_arg_check() come back unchanged through cchost's own drop-in.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL, *cmdline = NULL, *edited = NULL, *error = NULL, *again = NULL,
                *dropin = NULL, *back = NULL;
        _cleanup_(strv_freep) char **words = NULL, **valid = NULL, **back_words = NULL;
        char *remove[] = { (char *) "iommu", (char *) "nosmt=1", NULL };

        if (size > GRUB_FILE_MAX)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;

        if (grub_eval_text(GRUB_DEFAULT_PATH, text, remove, &cmdline, &edited, &error) < 0)
                return 0;
        error = mfree(error);
        if (grub_eval_text(GRUB_DEFAULT_PATH, edited, NULL, &again, NULL, &error) < 0)
                abort(); /* cchost's edit of a file it read made it unreadable */

        if (cmdline_split(cmdline, &words) < 0)
                return 0;
        STRV_FOREACH(w, words)
                if (kernel_arg_check(*w, NULL) >= 0 && strv_extend(&valid, *w) < 0)
                        return 0;
        if (!valid || grub_dropin_format(valid, &dropin) < 0)
                return 0;
        error = mfree(error);
        if (cmdline_words_length(valid) > KERNEL_CMDLINE_MAX)
                return 0; /* never written */
        if (grub_eval_text(GRUB_CCHOST_DROPIN, dropin, NULL, &back, NULL, &error) < 0 ||
            cmdline_split(back, &back_words) < 0)
                abort(); /* cchost cannot read its own drop-in */
        if (strv_length(back_words) != strv_length(valid))
                abort();
        for (size_t i = 0; valid[i]; i++)
                if (!streq(valid[i], back_words[i]))
                        abort();
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "journal.h"
#include "strv.h"

/*
 * The journals under /var/lib/cchost/journal/ are input (anyone who can write under the root shapes
 * them): the journal reader (journal_parse, for every operation, cchost.journal/v2 and the older v1)
 * and the plan reader must refuse or accept without reading out of bounds, what they accept must
 * keep the journal's promises (a description, a mode of at most 0777, root-relative normalized
 * paths, only the operation's kinds, a target and its rules for harden enforce's), and the plan must
 * read back what the serializer writes of it.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* root-relative and normalized: no leading or doubled slash, no "." or ".." component */
static int path_ok(const char *p) {
        for (const char *c = p;;) {
                size_t n = strcspn(c, "/");

                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return 0;
                if (!c[n])
                        return 1;
                c += n + 1;
        }
}

static void check_accepted(const Plan *p) {
        for (size_t i = 0; i < p->n_actions; i++) {
                const Action *a = &p->actions[i];

                if (!a->id || !a->description || !*a->description || a->mode > 0777 ||
                    action_kind_to_string(a->kind) == NULL || action_state_to_string(a->state) == NULL)
                        abort();
                if ((a->path && !path_ok(a->path)) || (a->source && !path_ok(a->source)))
                        abort();
                if (a->kind == ACTION_RUN && (strv_isempty(a->argv) || a->argv[0][0] != '/'))
                        abort();
                if (a->kind >= ACTION_SYSCTL_FILE && a->kind <= ACTION_FILE_LINE && (!a->target || strv_isempty(a->fixes)))
                        abort();
                if (a->kind == ACTION_FDE_BIND && (!a->target || !a->sealed))
                        abort();
        }
}

/* The whole document as each operation's journal: refused with a reason, or a journal of its kinds. */
static void check_journal(const char *text) {
        for (JournalOperation op = 0; op < _JOURNAL_OPERATION_MAX; op++) {
                const char *path = journal_path(op) ?: "var/lib/cchost/journal/disk-0.json";
                Journal j = {};
                char *error = NULL;

                if (journal_parse(text, op, path, &j, &error) >= 0) {
                        if (error || j.operation != op || !j.state || !j.boot_id || !j.subject || !j.run_id)
                                abort();
                        check_accepted(&j.plan);
                        if ((op == JOURNAL_DISK) != !!j.instance || !j.path)
                                abort();
                        for (size_t i = 0; i < j.plan.n_actions; i++)
                                if ((op == JOURNAL_PROVISION) != (j.plan.actions[i].kind <= ACTION_MICROCODE_RELOAD) ||
                                    (op == JOURNAL_DISK) != (j.plan.actions[i].kind >= ACTION_FDE_BIND))
                                        abort();
                        journal_done(&j);
                } else if (!error || !strstr(error, path))
                        abort(); /* a refusal always says why, naming the file */
                free(error);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_object *o, *plan;
        char *text, *error = NULL;
        Plan p = {};

        if (size > 256 * 1024)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        check_journal(text);
        o = json_tokener_parse(text);
        free(text);
        if (!o)
                return 0;
        /* a whole journal, or a plan as "plan --json" prints it */
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "plan", &plan))
                plan = o;
        if (plan_from_json(plan, &p, &error) >= 0) {
                json_object *again = plan_to_json(&p);
                Plan q = {};
                char *error2 = NULL;

                check_accepted(&p);
                if (!again || plan_from_json(again, &q, &error2) < 0 || q.n_actions != p.n_actions)
                        abort();
                check_accepted(&q);
                plan_done(&q);
                json_object_put(again);
                free(error2);
                plan_done(&p);
        } else if (!error)
                abort(); /* a refusal always says why */
        free(error);
        json_object_put(o);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>

#include "bios-map.h"
#include "macro.h"
#include "strv.h"

/*
 * Attribute names per vendor, in the order we try them; values are what the vendor's BIOS takes to
 * turn the feature on. Sources and confidence are recorded in docs next to each vendor block; where a
 * vendor offers several spellings across generations, all known ones are listed.
 */
typedef struct BiosName {
        const char *knob;
        const char *attribute;
        const char *value;   /* a string value */
        int number;          /* used when value is NULL: the integer to set... */
        int minimum;         /* ...when the current value is below this */
} BiosName;

typedef struct BiosVendor {
        const char *key;
        const char *match[4];  /* substrings of the BMC's Vendor or Manufacturer, lowercase */
        const BiosName *names;
} BiosVendor;

#include "bios-map-table.h"

/* The setup menu's words (AMI Aptio / AMD CBS on AMD, Intel's Socket Configuration on Intel). */
static const struct {
        const char *knob, *label, *setting;
} knob_labels[] = {
        { BIOS_SMEE, "SMEE (Secure Memory Encryption)", "AMD CBS > CPU Common Options > SMEE = Enabled" },
        { BIOS_SNP, "SEV-SNP Support", "NBIO Common Options > SEV-SNP Support = Enabled" },
        { BIOS_SNP_MEMORY_COVERAGE, "SNP Memory Coverage",
          "AMD CBS > CPU Common Options > SNP Memory (RMP Table) Coverage = Enabled" },
        { BIOS_SEV_ES_ASID_LIMIT, "SEV-ES ASID Space Limit",
          "AMD CBS > CPU Common Options > SEV-ES ASID Space Limit Control = Manual, SEV-ES ASID Space Limit = "
          "the number of SNP guests + 1 (e.g. 100)" },
        { BIOS_TME, "Total Memory Encryption (TME)",
          "Socket Configuration > Processor Configuration > Total Memory Encryption (TME) = Enable" },
        { BIOS_TME_MT, "Total Memory Encryption Multi-Tenant (TME-MT)",
          "Socket Configuration > Processor Configuration > Total Memory Encryption Multi-Tenant (TME-MT) = "
          "Enable" },
        { BIOS_TDX, "Trust Domain Extension (TDX)",
          "Socket Configuration > Processor Configuration > Trust Domain Extension (TDX) = Enable" },
        { BIOS_SEAM_LOADER, "TDX Secure Arbitration Mode Loader (SEAM Loader)",
          "Socket Configuration > Processor Configuration > TDX Secure Arbitration Mode Loader (SEAM Loader) = "
          "Enable" },
        { BIOS_TDX_KEY_SPLIT, "TME-MT/TDX Key Split",
          "Socket Configuration > Processor Configuration > TME-MT/TDX Key Split = a non-zero value" },
        { BIOS_SGX, "SW Guard Extensions (SGX)",
          "Socket Configuration > Processor Configuration > SW Guard Extensions (SGX) = Enable" },
};

const char *bios_knob_label(const char *knob) {
        for (size_t i = 0; knob && i < ELEMENTSOF(knob_labels); i++)
                if (streq(knob_labels[i].knob, knob))
                        return knob_labels[i].label;
        return NULL;
}

const char *bios_knob_setting(const char *knob) {
        for (size_t i = 0; knob && i < ELEMENTSOF(knob_labels); i++)
                if (streq(knob_labels[i].knob, knob))
                        return knob_labels[i].setting;
        return NULL;
}

const char *bios_map_vendor(const char *bmc_vendor) {
        char lower[128];
        size_t i;

        if (!bmc_vendor)
                return NULL;
        for (i = 0; bmc_vendor[i] && i < sizeof(lower) - 1; i++)
                lower[i] = (char) tolower((unsigned char) bmc_vendor[i]);
        lower[i] = 0;
        for (size_t v = 0; v < ELEMENTSOF(bios_vendors); v++)
                for (size_t m = 0; m < ELEMENTSOF(bios_vendors[v].match) && bios_vendors[v].match[m]; m++)
                        if (strstr(lower, bios_vendors[v].match[m]))
                                return bios_vendors[v].key;
        return NULL;
}

static const BiosVendor *find_vendor(const char *key) {
        for (size_t v = 0; key && v < ELEMENTSOF(bios_vendors); v++)
                if (streq(bios_vendors[v].key, key))
                        return &bios_vendors[v];
        return NULL;
}

/* The BMC's attribute names, for error messages, those that look related first. */
static char *offered(json_object *attributes) {
        static const char *const hints[] = { "tdx", "tme", "sgx", "sev", "snp", "sme", "seam", "memory", "encrypt",
                                             "asid", "iommu" };
        char *out = NULL;
        size_t n = 0;

        json_object_object_foreach(attributes, key, value) {
                char lower[128];
                bool related = false;
                size_t i;

                (void) value;
                for (i = 0; key[i] && i < sizeof(lower) - 1; i++)
                        lower[i] = (char) tolower((unsigned char) key[i]);
                lower[i] = 0;
                for (size_t h = 0; h < ELEMENTSOF(hints); h++)
                        related = related || strstr(lower, hints[h]);
                if (!related)
                        continue;
                char *o = realloc(out, n + strlen(key) + 3);
                if (!o)
                        break;
                out = o;
                n += (size_t) sprintf(out + n, "%s%s", n ? ", " : "", key);
        }
        return out ? out : strdup("none that look related");
}

int bios_map_resolve(const char *vendor, char *const *knobs, json_object *attributes, json_object **ret_patch,
                     char **ret_error) {
        const BiosVendor *v = find_vendor(vendor);
        json_object *patch;

        if (!v) {
                _cleanup_free_ char *list = offered(attributes);
                if (asprintf(ret_error, "BMC vendor \"%s\" is not one cchost knows (dell, hpe, lenovo, supermicro); "
                                        "set redfish.vendor if it is one of them. BIOS attributes it offers: %s",
                             strempty(vendor), strempty(list)) < 0)
                        *ret_error = NULL;
                return -EOPNOTSUPP;
        }
        patch = json_object_new_object();
        if (!patch)
                return -ENOMEM;

        STRV_FOREACH(knob, knobs) {
                const BiosName *hit = NULL;
                json_object *current;

                for (const BiosName *n = v->names; n->knob && !hit; n++)
                        if (streq(n->knob, *knob) && json_object_object_get_ex(attributes, n->attribute, &current))
                                hit = n;
                if (!hit) {
                        _cleanup_free_ char *list = offered(attributes);
                        if (asprintf(ret_error, "the %s BMC offers no BIOS attribute for %s (%s); attributes it "
                                     "offers: %s", v->key, *knob, bios_knob_label(*knob) ?: "?", strempty(list)) < 0)
                                *ret_error = NULL;
                        json_object_put(patch);
                        return -ENOENT;
                }
                if (hit->value) {
                        if (json_object_is_type(current, json_type_string) &&
                            streq(json_object_get_string(current), hit->value))
                                continue;
                        json_object_object_add(patch, hit->attribute, json_object_new_string(hit->value));
                } else {
                        if (json_object_is_type(current, json_type_int) && json_object_get_int(current) >= hit->minimum)
                                continue;
                        json_object_object_add(patch, hit->attribute, json_object_new_int(hit->number));
                }
        }
        *ret_patch = patch;
        return 0;
}

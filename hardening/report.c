/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "escape.h"
#include "build-config.h"
#include "harden.h"
#include "report.h"
#include "time-util.h"
#include "xml-dl.h"

const char *harden_result_status(const HardenResult *r) {
        if (r->waived)
                return "waived";
        return finding_status_to_string(r->finding.status);
}

void harden_scan_count(const HardenScan *s, HardenCounts *ret) {
        *ret = (HardenCounts) {};
        for (size_t i = 0; i < s->n_results; i++) {
                const HardenResult *r = s->results + i;

                if (r->waived)
                        ret->waived++;
                else
                        switch (r->finding.status) {
                        case FINDING_PASS:
                                ret->pass++;
                                break;
                        case FINDING_FAIL:
                        case FINDING_WARN:
                                ret->fail++;
                                break;
                        case FINDING_SKIP:
                                ret->skip++;
                                break;
                        default:
                                ret->unknown++;
                        }
        }
}

double harden_scan_score(const HardenScan *s) {
        HardenCounts c;
        unsigned scored;

        harden_scan_count(s, &c);
        scored = c.pass + c.fail + c.unknown;
        return scored ? 100.0 * c.pass / scored : 100.0;
}

bool harden_scan_ok(const HardenScan *s) {
        HardenCounts c;

        harden_scan_count(s, &c);
        return c.fail == 0 && c.unknown == 0;
}

static json_object *strv_json(char **l) {
        json_object *a = json_object_new_array();

        for (char **s = l; a && s && *s; s++)
                json_object_array_add(a, json_object_new_string(*s));
        return a;
}

static json_object *waiver_json(const Waiver *w, time_t now) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "reason", json_object_new_string(w->reason));
        json_object_object_add(o, "approver", json_object_new_string(w->approver));
        json_object_object_add(o, "expires", json_object_new_string(w->expires));
        json_object_object_add(o, "expired", json_object_new_boolean(w->expires_at <= now));
        return o;
}

json_object *harden_result_to_json(const HardenResult *r, time_t now) {
        json_object *o = finding_to_json(&r->finding);

        if (!o)
                return NULL;
        json_object_object_add(o, "status", json_object_new_string(harden_result_status(r)));
        json_object_object_add(o, "rule", json_object_new_string(r->rule->id));
        json_object_object_add(o, "title", json_object_new_string(r->rule->title));
        json_object_object_add(o, "severity", json_object_new_string(r->rule->severity));
        json_object_object_add(o, "check_type", json_object_new_string(check_type_to_string(r->rule->check)));
        json_object_object_add(o, "references", strv_json(r->rule->references));
        json_object_object_add(o, "remediation", json_object_new_string(r->rule->fix ?: "manual"));
        if (r->waiver)
                json_object_object_add(o, "waiver", waiver_json(r->waiver, now));
        return o;
}

static json_object *counts_json(const HardenScan *s) {
        json_object *o = json_object_new_object();
        HardenCounts c;

        harden_scan_count(s, &c);
        if (!o)
                return NULL;
        json_object_object_add(o, "pass", json_object_new_int(c.pass));
        json_object_object_add(o, "fail", json_object_new_int(c.fail));
        json_object_object_add(o, "waived", json_object_new_int(c.waived));
        json_object_object_add(o, "unknown", json_object_new_int(c.unknown));
        json_object_object_add(o, "skip", json_object_new_int(c.skip));
        return o;
}

json_object *harden_scan_to_json(const HardenScan *s, const char *schema) {
        json_object *o = json_object_new_object(), *a = json_object_new_array();
        char buf[32];

        if (!o || !a) {
                json_object_put(o);
                json_object_put(a);
                return NULL;
        }
        json_object_object_add(o, "schema", json_object_new_string(schema));
        json_object_object_add(o, "profile", json_object_new_string(s->profile->name));
        json_object_object_add(o, "profile_version", s->profile->version ? json_object_new_string(s->profile->version) : NULL);
        json_object_object_add(o, "profile_file", json_object_new_string(s->profile->path));
        json_object_object_add(o, "profile_overrides", strv_json(s->profile->overrides));
        json_object_object_add(o, "time", json_object_new_string(format_timestamp(s->end, buf, sizeof(buf))));
        json_object_object_add(o, "ok", json_object_new_boolean(harden_scan_ok(s)));
        json_object_object_add(o, "score", json_object_new_double(harden_scan_score(s)));
        json_object_object_add(o, "counts", counts_json(s));
        for (size_t i = 0; i < s->n_results; i++) {
                json_object_array_add(a, harden_result_to_json(s->results + i, s->now));
        }
        json_object_object_add(o, "checks", a);
        return o;
}

void harden_scan_print_text(const HardenScan *s, FILE *out) {
        HardenCounts c;

        /* rule ids and texts are validated with the profile; summaries, remedies and waivers come from elsewhere */
        for (size_t i = 0; i < s->n_results; i++) {
                _cleanup_(text_esc_done) TextEsc e = {};
                const HardenResult *r = s->results + i;

                fprintf(out, "%-8s %-40s %s\n", harden_result_status(r), text_esc(&e, r->rule->id),
                        text_esc(&e, r->finding.summary));
                if (r->waiver && r->waived)
                        fprintf(out, "         waived by %s until %s: %s\n", text_esc(&e, r->waiver->approver),
                                text_esc(&e, r->waiver->expires), text_esc(&e, r->waiver->reason));
                else if (r->waiver && r->finding.status == FINDING_FAIL)
                        fprintf(out, "         waiver EXPIRED on %s (approver %s: %s)\n", text_esc(&e, r->waiver->expires),
                                text_esc(&e, r->waiver->approver), text_esc(&e, r->waiver->reason));
                if (r->finding.status == FINDING_FAIL && !r->waived && r->finding.remedy)
                        fprintf(out, "         fix: %s\n", text_esc(&e, r->finding.remedy));
        }
        harden_scan_count(s, &c);
        {
                _cleanup_(text_esc_done) TextEsc e = {};

                fprintf(out, "\nprofile %s: %u pass, %u fail, %u waived, %u unknown, %u skipped; score %.1f\n",
                        text_esc(&e, s->profile->name), c.pass, c.fail, c.waived, c.unknown, c.skip,
                        harden_scan_score(s));
        }
}

/* Node identity */

void node_identity_read(Host *h, NodeIdentity *ret) {
        *ret = (NodeIdentity) {};
        if (hostfs_read_line(host_fs(h), "etc/hostname", &ret->hostname) < 0)
                (void) hostfs_read_line(host_fs(h), "proc/sys/kernel/hostname", &ret->hostname);
        (void) hostfs_read_line(host_fs(h), "etc/machine-id", &ret->machine_id);
        (void) hostfs_read_line(host_fs(h), "sys/class/dmi/id/product_serial", &ret->dmi_serial);
}

void node_identity_done(NodeIdentity *n) {
        free(n->hostname);
        free(n->machine_id);
        free(n->dmi_serial);
        *n = (NodeIdentity) {};
}

static json_object *str_or_null(const char *s) {
        return s ? json_object_new_string(s) : NULL;
}

json_object *compliance_to_json(const HardenScan *s, const NodeIdentity *n) {
        json_object *o = harden_scan_to_json(s, "cchost.compliance/v1"), *node = json_object_new_object();

        if (!o || !node) {
                json_object_put(o);
                json_object_put(node);
                return NULL;
        }
        json_object_object_add(node, "hostname", str_or_null(n->hostname));
        json_object_object_add(node, "machine_id", str_or_null(n->machine_id));
        json_object_object_add(node, "dmi_serial", str_or_null(n->dmi_serial));
        json_object_object_add(o, "node", node);
        /* the same list, under the report's name for it */
        json_object_object_add(o, "rules", json_object_get(json_object_object_get(o, "checks")));
        json_object_object_del(o, "checks");
        return o;
}

/* XCCDF 1.2 */

#define XCCDF_NS "http://checklists.nist.gov/xccdf/1.2"
#define XCCDF_RDNS "xccdf_io.cchost"

static const char *xccdf_result(const HardenResult *r) {
        if (r->waived)
                return "informational";
        switch (r->finding.status) {
        case FINDING_PASS:
                return "pass";
        case FINDING_FAIL:
        case FINDING_WARN:
                return "fail";
        case FINDING_SKIP:
                return "notapplicable";
        default:
                return "error";
        }
}

/* Rule ids as XCCDF wants them: [A-Za-z0-9_.-]; our ids already are, "-" becomes "_" for readability. */
static void rule_xid(const HardenRule *r, char *buf, size_t size) {
        snprintf(buf, size, XCCDF_RDNS "_rule_%s", r->id);
        for (char *c = buf; *c; c++)
                if (*c == '-')
                        *c = '_';
}

/*
 * Everything written into the document goes through these: tree content (hostname, serial,
 * evidence in summaries) is arbitrary bytes, XML 1.0 takes neither invalid UTF-8 nor most control
 * characters (not even as references).
 */
static int xml_element(xmlTextWriterPtr w, const char *name, const char *text) {
        _cleanup_free_ char *x = xml_text_escape(text);

        return x ? xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST x) : -ENOMEM;
}

static int xml_attribute(xmlTextWriterPtr w, const char *name, const char *text) {
        _cleanup_free_ char *x = xml_text_escape(text);

        return x ? xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST x) : -ENOMEM;
}

static int xml_string(xmlTextWriterPtr w, const char *text) {
        _cleanup_free_ char *x = xml_text_escape(text);

        return x ? xmlTextWriterWriteString(w, BAD_CAST x) : -ENOMEM;
}

#define W(call)                   \
        do {                      \
                if ((call) < 0)   \
                        goto fail; \
        } while (0)

/* The rule's check, written alike in its Rule and in its rule-result (oscap matches the two). */
static int write_check(xmlTextWriterPtr w, const HardenRule *rule, const char *profile_path) {
        W(xmlTextWriterStartElement(w, BAD_CAST "check"));
        W(xmlTextWriterWriteAttribute(w, BAD_CAST "system", BAD_CAST "urn:cchost:check"));
        W(xmlTextWriterStartElement(w, BAD_CAST "check-content-ref"));
        W(xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST check_type_to_string(rule->check)));
        W(xml_attribute(w, "href", profile_path));
        W(xmlTextWriterEndElement(w));
        W(xmlTextWriterEndElement(w));
        return 0;
fail:
        return -ENOMEM;
}

int compliance_to_xccdf(const HardenScan *s, const NodeIdentity *n, char **ret) {
        xmlBufferPtr buf = NULL;
        xmlTextWriterPtr w = NULL;
        char start[32], end[32], id[256], bench[256], score[32];
        int r;

        r = dlopen_libxml2(NULL);
        if (r < 0)
                return r;
        r = -ENOMEM;
        buf = xmlBufferCreate();
        w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
        if (!w)
                goto fail;
        format_timestamp(s->start, start, sizeof(start));
        format_timestamp(s->end, end, sizeof(end));
        snprintf(bench, sizeof(bench), XCCDF_RDNS "_benchmark_%s", s->profile->name);
        for (char *c = bench; *c; c++)
                if (*c == '-')
                        *c = '_';

        xmlTextWriterSetIndent(w, 1);
        W(xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL));
        W(xmlTextWriterStartElementNS(w, NULL, BAD_CAST "Benchmark", BAD_CAST XCCDF_NS));
        W(xml_attribute(w, "id", bench));
        W(xmlTextWriterWriteAttribute(w, BAD_CAST "resolved", BAD_CAST "1"));
        W(xmlTextWriterWriteAttribute(w, BAD_CAST "xml:lang", BAD_CAST "en"));
        W(xmlTextWriterWriteElement(w, BAD_CAST "status", BAD_CAST "draft"));
        W(xmlTextWriterWriteFormatElement(w, BAD_CAST "title", "cchost hardened host profile %s", s->profile->name));
        /* XCCDF order: status, title, description, platform, version, metadata, Rule* */
        {
                _cleanup_free_ char *d = NULL;

                if (asprintf(&d, "The rules of the cchost hardening profile %s and how this host met them, as "
                             "checked by cchostctl report compliance.", s->profile->name) < 0)
                        goto fail;
                W(xml_element(w, "description", d));
        }
        /* the CPE 2.2 URI: oscap 1.3.7 prefers a CPE 2.3 formatted string but fails to validate one here */
        W(xmlTextWriterStartElement(w, BAD_CAST "platform"));
        W(xmlTextWriterWriteAttribute(w, BAD_CAST "idref", BAD_CAST "cpe:/o:linux:linux_kernel"));
        W(xmlTextWriterEndElement(w));
        W(xml_element(w, "version", s->profile->version ?: "0"));
        W(xmlTextWriterStartElement(w, BAD_CAST "metadata"));
        W(xmlTextWriterWriteElementNS(w, BAD_CAST "dc", BAD_CAST "creator", BAD_CAST "http://purl.org/dc/elements/1.1/",
                                      BAD_CAST "cchost"));
        {
                _cleanup_free_ char *x = xml_text_escape(s->profile->path);

                if (!x)
                        goto fail;
                W(xmlTextWriterWriteElementNS(w, BAD_CAST "dc", BAD_CAST "source",
                                              BAD_CAST "http://purl.org/dc/elements/1.1/", BAD_CAST x));
        }
        W(xmlTextWriterEndElement(w));

        for (size_t i = 0; i < s->n_results; i++) {
                const HardenRule *rule = s->results[i].rule;

                rule_xid(rule, id, sizeof(id));
                W(xmlTextWriterStartElement(w, BAD_CAST "Rule"));
                W(xmlTextWriterWriteAttribute(w, BAD_CAST "id", BAD_CAST id));
                W(xmlTextWriterWriteAttribute(w, BAD_CAST "selected", BAD_CAST "true"));
                W(xml_attribute(w, "severity", rule->severity));
                W(xml_element(w, "title", rule->title));
                /* XCCDF order: title, reference*, rationale */
                for (char **ref = rule->references; ref && *ref; ref++)
                        W(xml_element(w, "reference", *ref));
                if (rule->rationale)
                        W(xml_element(w, "rationale", rule->rationale));
                if (s->results[i].finding.remedy)
                        W(xml_element(w, "fixtext", s->results[i].finding.remedy));
                W(write_check(w, rule, s->profile->path));
                W(xmlTextWriterEndElement(w));
        }

        W(xmlTextWriterStartElement(w, BAD_CAST "TestResult"));
        W(xmlTextWriterWriteAttribute(w, BAD_CAST "id", BAD_CAST XCCDF_RDNS "_testresult_default"));
        W(xmlTextWriterWriteAttribute(w, BAD_CAST "start-time", BAD_CAST start));
        W(xmlTextWriterWriteAttribute(w, BAD_CAST "end-time", BAD_CAST end));
        W(xmlTextWriterWriteAttribute(w, BAD_CAST "test-system", BAD_CAST "cpe:2.3:a:cchost:cchostctl:" PACKAGE_VERSION ":*:*:*:*:*:*:*"));
        W(xmlTextWriterStartElement(w, BAD_CAST "benchmark"));
        W(xmlTextWriterWriteFormatAttribute(w, BAD_CAST "href", "#%s", bench));
        W(xml_attribute(w, "id", bench));
        W(xmlTextWriterEndElement(w));
        W(xml_element(w, "target", n->hostname ?: "unknown"));
        if (n->machine_id) {
                W(xmlTextWriterStartElement(w, BAD_CAST "target-facts"));
                W(xmlTextWriterStartElement(w, BAD_CAST "fact"));
                W(xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST "urn:cchost:machine-id"));
                W(xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "string"));
                W(xml_string(w, n->machine_id));
                W(xmlTextWriterEndElement(w));
                if (n->dmi_serial) {
                        W(xmlTextWriterStartElement(w, BAD_CAST "fact"));
                        W(xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST "urn:cchost:dmi-serial"));
                        W(xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "string"));
                        W(xml_string(w, n->dmi_serial));
                        W(xmlTextWriterEndElement(w));
                }
                W(xmlTextWriterEndElement(w));
        }
        for (size_t i = 0; i < s->n_results; i++) {
                const HardenResult *res = s->results + i;

                rule_xid(res->rule, id, sizeof(id));
                W(xmlTextWriterStartElement(w, BAD_CAST "rule-result"));
                W(xmlTextWriterWriteAttribute(w, BAD_CAST "idref", BAD_CAST id));
                W(xmlTextWriterWriteAttribute(w, BAD_CAST "time", BAD_CAST end));
                W(xml_attribute(w, "severity", res->rule->severity));
                W(xmlTextWriterWriteAttribute(w, BAD_CAST "weight", BAD_CAST "1.0"));
                W(xmlTextWriterWriteElement(w, BAD_CAST "result", BAD_CAST xccdf_result(res)));
                if (res->finding.summary) {
                        W(xmlTextWriterStartElement(w, BAD_CAST "message"));
                        W(xmlTextWriterWriteAttribute(w, BAD_CAST "severity", BAD_CAST "info"));
                        if (res->waived) {
                                _cleanup_free_ char *m = NULL;

                                if (asprintf(&m, "%s (waived by %s until %s: %s)", res->finding.summary,
                                             res->waiver->approver, res->waiver->expires, res->waiver->reason) < 0)
                                        goto fail;
                                W(xml_string(w, m));
                        } else
                                W(xml_string(w, res->finding.summary));
                        W(xmlTextWriterEndElement(w));
                }
                W(write_check(w, res->rule, s->profile->path));
                W(xmlTextWriterEndElement(w));
        }
        snprintf(score, sizeof(score), "%.2f", harden_scan_score(s));
        W(xmlTextWriterStartElement(w, BAD_CAST "score"));
        W(xmlTextWriterWriteAttribute(w, BAD_CAST "system", BAD_CAST "urn:xccdf:scoring:default"));
        W(xmlTextWriterWriteAttribute(w, BAD_CAST "maximum", BAD_CAST "100"));
        W(xmlTextWriterWriteString(w, BAD_CAST score));
        W(xmlTextWriterEndElement(w));
        W(xmlTextWriterEndElement(w)); /* TestResult */
        W(xmlTextWriterEndElement(w)); /* Benchmark */
        W(xmlTextWriterEndDocument(w));
        xmlFreeTextWriter(w);
        w = NULL;
        *ret = strdup((const char *) xmlBufferContent(buf));
        r = *ret ? 0 : -ENOMEM;
fail:
        if (w)
                xmlFreeTextWriter(w);
        if (buf)
                xmlBufferFree(buf);
        return r;
}

void compliance_print_text(const HardenScan *s, const NodeIdentity *n, FILE *out) {
        _cleanup_(text_esc_done) TextEsc e = {};
        char buf[32];

        fprintf(out, "Compliance report: profile %s%s%s\n", text_esc(&e, s->profile->name),
                s->profile->version ? " version " : "", text_esc(&e, s->profile->version));
        fprintf(out, "node: %s  machine-id: %s  serial: %s\n", text_esc(&e, n->hostname ?: "-"),
                text_esc(&e, n->machine_id ?: "-"), text_esc(&e, n->dmi_serial ?: "-"));
        fprintf(out, "time: %s\n\n", format_timestamp(s->end, buf, sizeof(buf)));
        fprintf(out, "%-8s %-8s %-40s %s\n", "STATUS", "SEVERITY", "RULE", "EVIDENCE");
        for (size_t i = 0; i < s->n_results; i++) {
                _cleanup_(text_esc_done) TextEsc re = {};
                const HardenResult *r = s->results + i;

                fprintf(out, "%-8s %-8s %-40s %s\n", harden_result_status(r), r->rule->severity, text_esc(&re, r->rule->id),
                        text_esc(&re, r->finding.summary));
        }
        {
                HardenCounts c;

                harden_scan_count(s, &c);
                fprintf(out, "\nscore %.1f: %u pass, %u fail, %u waived, %u unknown, %u skipped\n", harden_scan_score(s),
                        c.pass, c.fail, c.waived, c.unknown, c.skip);
        }
}

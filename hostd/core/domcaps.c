/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <stdlib.h>

#include "domcaps.h"
#include "parse-util.h"
#include "macro.h"
#include "xml-dl.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(xmlDocPtr, xmlFreeDoc);
DEFINE_TRIVIAL_CLEANUP_FUNC(xmlXPathContextPtr, xmlXPathFreeContext);

/* The string value of the first node matching expr, or NULL. */
static char *xpath_string(xmlXPathContextPtr ctx, const char *expr) {
        xmlXPathObjectPtr o;
        char *s = NULL;

        o = xmlXPathEvalExpression((const xmlChar *) expr, ctx);
        if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
                xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
                if (v) {
                        s = strdup((const char *) v);
                        xmlFree(v);
                }
        }
        xmlXPathFreeObject(o);
        return s;
}

static bool xpath_exists(xmlXPathContextPtr ctx, const char *expr) {
        xmlXPathObjectPtr o;
        bool found;

        o = xmlXPathEvalExpression((const xmlChar *) expr, ctx);
        found = o && o->nodesetval && o->nodesetval->nodeNr > 0;
        xmlXPathFreeObject(o);
        return found;
}

static long xpath_long(xmlXPathContextPtr ctx, const char *expr) {
        _cleanup_free_ char *s = xpath_string(ctx, expr);
        uint32_t v;

        /* plain decimal that fits: no sign, no spaces, no wrap */
        if (!s || safe_atou32(s, &v) < 0 || v > INT32_MAX)
                return -1;
        return (long) v;
}

int domcaps_parse(const char *xml, size_t size, DomCaps *ret) {
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        _cleanup_(xmlXPathFreeContextp) xmlXPathContextPtr ctx = NULL;
        xmlNodePtr root;
        DomCaps c = { .max_guests = -1, .max_es_guests = -1 };
        int r;

        if (size > INT_MAX)
                return -EFBIG;
        r = dlopen_libxml2(NULL);
        if (r < 0)
                return r;
        doc = xmlReadMemory(xml, (int) size, "domcaps.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return -EBADMSG;
        root = xmlDocGetRootElement(doc);
        if (!root || !xmlStrEqual(root->name, (const xmlChar *) "domainCapabilities"))
                return -EBADMSG;
        ctx = xmlXPathNewContext(doc);
        if (!ctx)
                return -ENOMEM;

        c.emulator = xpath_string(ctx, "/domainCapabilities/path");
        c.sev = xpath_exists(ctx, "/domainCapabilities/features/sev[@supported='yes']");
        c.max_guests = xpath_long(ctx, "/domainCapabilities/features/sev/maxGuests");
        c.max_es_guests = xpath_long(ctx, "/domainCapabilities/features/sev/maxESGuests");
        /* libvirt puts <launchSecurity> under <features>; accept it at the top level as well */
#define SECTYPES "/launchSecurity[@supported='yes']/enum[@name='sectype']/value"
        c.sectypes_listed = xpath_exists(ctx, "/domainCapabilities/features" SECTYPES " | /domainCapabilities" SECTYPES);
        c.sectype_sev_snp = xpath_exists(ctx, "/domainCapabilities/features" SECTYPES "[.='sev-snp'] | "
                                              "/domainCapabilities" SECTYPES "[.='sev-snp']");
        c.sectype_tdx = xpath_exists(ctx, "/domainCapabilities/features" SECTYPES "[.='tdx'] | "
                                          "/domainCapabilities" SECTYPES "[.='tdx']");
#undef SECTYPES
        c.tdx = xpath_exists(ctx, "/domainCapabilities/features/tdx[@supported='yes']");

        *ret = c;
        return 0;
}

void domcaps_done(DomCaps *c) {
        c->emulator = mfree(c->emulator);
}

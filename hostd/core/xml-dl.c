/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dl-util.h"
#include "macro.h"
#include "xml-dl.h"

/* the pointers, by their own names (the macros of xml-dl.h would rename them) */
#undef xmlReadMemory
#undef xmlDocGetRootElement
#undef xmlFreeDoc
#undef xmlNodeGetContent
#undef xmlStrEqual
#undef xmlXPathNewContext
#undef xmlXPathFreeContext
#undef xmlXPathEvalExpression
#undef xmlXPathFreeObject
#undef xmlBufferCreate
#undef xmlBufferContent
#undef xmlBufferFree
#undef xmlNewTextWriterMemory
#undef xmlFreeTextWriter
#undef xmlTextWriterSetIndent
#undef xmlTextWriterStartDocument
#undef xmlTextWriterEndDocument
#undef xmlTextWriterStartElement
#undef xmlTextWriterStartElementNS
#undef xmlTextWriterEndElement
#undef xmlTextWriterWriteAttribute
#undef xmlTextWriterWriteFormatAttribute
#undef xmlTextWriterWriteElement
#undef xmlTextWriterWriteElementNS
#undef xmlTextWriterWriteFormatElement
#undef xmlTextWriterWriteString
#undef xmlFree
#undef xmlFree

#define XML_DL_DEFINE(name) typeof(name) *sym_##name;
XML_DL_SYMBOLS(XML_DL_DEFINE)
xmlFreeFunc *sym_xmlFree;

#define XML_DL_ENTRY(name) { #name, (void **) &sym_##name },
static const DlSym xml_syms[] = {
        XML_DL_SYMBOLS(XML_DL_ENTRY)
        { "xmlFree", (void **) &sym_xmlFree },
};

static DlLibrary xml_library = {
        .label = "libxml2",
        .soname = "libxml2.so.2",
        .syms = xml_syms,
        .n_syms = ELEMENTSOF(xml_syms),
};

int dlopen_libxml2(const char **ret_why) {
        return dl_library_load(&xml_library, ret_why);
}

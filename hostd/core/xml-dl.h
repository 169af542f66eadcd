/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libxml2 through dlopen() (dl-util.h): only the libvirt domain capabilities and the XCCDF report use
 * it, not check on a fixture nor --version. Include this instead of the <libxml/...> headers: the
 * xml* names below call through pointers that dlopen_libxml2() fills, and every user calls
 * dlopen_libxml2() before its first xmlReadMemory() or xmlBufferCreate().
 */
#include <libxml/parser.h>
#include <libxml/xmlwriter.h>
#include <libxml/xpath.h>

#define XML_DL_SYMBOLS(X)                       \
        X(xmlReadMemory)                        \
        X(xmlDocGetRootElement)                 \
        X(xmlFreeDoc)                           \
        X(xmlNodeGetContent)                    \
        X(xmlStrEqual)                          \
        X(xmlXPathNewContext)                   \
        X(xmlXPathFreeContext)                  \
        X(xmlXPathEvalExpression)               \
        X(xmlXPathFreeObject)                   \
        X(xmlBufferCreate)                      \
        X(xmlBufferContent)                     \
        X(xmlBufferFree)                        \
        X(xmlNewTextWriterMemory)               \
        X(xmlFreeTextWriter)                    \
        X(xmlTextWriterSetIndent)               \
        X(xmlTextWriterStartDocument)           \
        X(xmlTextWriterEndDocument)             \
        X(xmlTextWriterStartElement)            \
        X(xmlTextWriterStartElementNS)          \
        X(xmlTextWriterEndElement)              \
        X(xmlTextWriterWriteAttribute)          \
        X(xmlTextWriterWriteFormatAttribute)    \
        X(xmlTextWriterWriteElement)            \
        X(xmlTextWriterWriteElementNS)          \
        X(xmlTextWriterWriteFormatElement)      \
        X(xmlTextWriterWriteString)

#define XML_DL_DECLARE(name) extern typeof(name) *sym_##name;
XML_DL_SYMBOLS(XML_DL_DECLARE)
/* xmlFree is a variable of libxml2 (the allocator's free function), not a function */
extern xmlFreeFunc *sym_xmlFree;

/* 0, or -ELIBACC with *ret_why (when not NULL) "cannot load libxml2 (...)" */
int dlopen_libxml2(const char **ret_why);

#define xmlReadMemory sym_xmlReadMemory
#define xmlDocGetRootElement sym_xmlDocGetRootElement
#define xmlFreeDoc sym_xmlFreeDoc
#define xmlNodeGetContent sym_xmlNodeGetContent
#define xmlStrEqual sym_xmlStrEqual
#define xmlXPathNewContext sym_xmlXPathNewContext
#define xmlXPathFreeContext sym_xmlXPathFreeContext
#define xmlXPathEvalExpression sym_xmlXPathEvalExpression
#define xmlXPathFreeObject sym_xmlXPathFreeObject
#define xmlBufferCreate sym_xmlBufferCreate
#define xmlBufferContent sym_xmlBufferContent
#define xmlBufferFree sym_xmlBufferFree
#define xmlNewTextWriterMemory sym_xmlNewTextWriterMemory
#define xmlFreeTextWriter sym_xmlFreeTextWriter
#define xmlTextWriterSetIndent sym_xmlTextWriterSetIndent
#define xmlTextWriterStartDocument sym_xmlTextWriterStartDocument
#define xmlTextWriterEndDocument sym_xmlTextWriterEndDocument
#define xmlTextWriterStartElement sym_xmlTextWriterStartElement
#define xmlTextWriterStartElementNS sym_xmlTextWriterStartElementNS
#define xmlTextWriterEndElement sym_xmlTextWriterEndElement
#define xmlTextWriterWriteAttribute sym_xmlTextWriterWriteAttribute
#define xmlTextWriterWriteFormatAttribute sym_xmlTextWriterWriteFormatAttribute
#define xmlTextWriterWriteElement sym_xmlTextWriterWriteElement
#define xmlTextWriterWriteElementNS sym_xmlTextWriterWriteElementNS
#define xmlTextWriterWriteFormatElement sym_xmlTextWriterWriteFormatElement
#define xmlTextWriterWriteString sym_xmlTextWriterWriteString
#undef xmlFree
#define xmlFree (*sym_xmlFree)

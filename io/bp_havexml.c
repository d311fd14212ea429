/* EDXL-HAVE 1.0 XML through libxml2 (bp_havexml.h). */
#include "bp_havexml.h"
#include "bp_time.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <string.h>

#define X(s) ((const xmlChar *)(s))

/* -- reading ----------------------------------------------------------------- */

static bool is(const xmlNode *n, const char *ns, const char *name) {
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

/* The next element sibling from n on (n itself included) named ns:name. */
static const xmlNode *find(const xmlNode *n, const char *ns, const char *name) {
    for (; n; n = n->next)
        if (is(n, ns, name)) return n;
    return NULL;
}

static const xmlNode *child(const xmlNode *n, const char *ns, const char *name) {
    return n ? find(n->children, ns, name) : NULL;
}

/* The text of an element (all its text, as XPath's string()). */
static void value_of(const xmlNode *n, bp_have_value_t *v) {
    xmlChar *s = xmlNodeGetContent(n);
    bp_have_value_set(v, s ? (const char *)s : "", s ? strlen((const char *)s) : 0);
    xmlFree(s);
}

static void text_of(const xmlNode *n, bp_have_text_t *v) {
    xmlChar *s = xmlNodeGetContent(n);
    bp_have_text_set(v, s ? (const char *)s : "", s ? strlen((const char *)s) : 0);
    xmlFree(s);
}

/* The counts of a Capacity (or, Sahana's layout, of the BedCapacity
 * itself): true when any was there. */
static bool counts(const xmlNode *parent, bp_have_bed_t *b) {
    static const char *const names[] = {"CapacityStatus", "AvailableCount", "BaselineCount",
                                        "AdditionalCapacityCount24Hr"};
    bp_have_value_t *vals[] = {&b->status, &b->available, &b->baseline, &b->additional};
    bool any = false;
    for (const xmlNode *n = parent->children; n; n = n->next)
        for (size_t k = 0; k < 4; k++)
            if (is(n, BP_HAVE_NS, names[k])) {
                value_of(n, vals[k]);
                any |= k > 0;
            }
    return any;
}

static void read_bed(const xmlNode *bc, bp_have_bed_t *b) {
    for (const xmlNode *n = find(bc->children, BP_HAVE_NS, "BedType"); n;
         n = find(n->next, BP_HAVE_NS, "BedType"))
        value_of(n, &b->bed_type);
    for (const xmlNode *n = find(bc->children, BP_HAVE_NS, "Capacity"); n;
         n = find(n->next, BP_HAVE_NS, "Capacity"))
        if (counts(n, b)) b->capacities++;
    if (counts(bc, b)) b->capacities++;
}

static void read_hospital(const xmlNode *hn, bp_have_hospital_t *h) {
    const xmlNode *info =
        child(child(hn, BP_HAVE_NS, "Organization"), BP_HAVE_NS, "OrganizationInformation");
    for (const xmlNode *on = info ? find(info->children, BP_XNL_NS, "OrganisationName") : NULL;
         on && !h->id.present; on = find(on->next, BP_XNL_NS, "OrganisationName")) {
        /* CIQ attributes are qualified (xnl:ID); an unqualified ID is read too */
        xmlChar *id = xmlGetNsProp(on, X("ID"), X(BP_XNL_NS));
        if (!id) id = xmlGetNoNsProp(on, X("ID"));
        if (!id) continue;
        bp_have_value_set(&h->id, (const char *)id, strlen((const char *)id));
        xmlFree(id);
        const xmlNode *ne = child(on, BP_XNL_NS, "NameElement");
        if (ne) text_of(ne, &h->name);
    }
    const xmlNode *ed = child(hn, BP_HAVE_NS, "EmergencyDepartmentStatus");
    /* the schema's EMSTraffic wrapper, or (Sahana's importer) none */
    const xmlNode *holders[2] = {child(ed, BP_HAVE_NS, "EMSTraffic"), ed};
    for (int k = 0; k < 2; k++) {
        for (const xmlNode *n = holders[k] ? holders[k]->children : NULL; n; n = n->next) {
            if (is(n, BP_HAVE_NS, "EMSTrafficStatus"))
                value_of(n, &h->traffic);
            else if (is(n, BP_HAVE_NS, "EMSTrafficReason"))
                text_of(n, &h->reason);
        }
    }
    const xmlNode *cap = child(hn, BP_HAVE_NS, "HospitalBedCapacityStatus");
    size_t k = 0;
    for (const xmlNode *bc = child(cap, BP_HAVE_NS, "BedCapacity"); bc;
         bc = find(bc->next, BP_HAVE_NS, "BedCapacity")) {
        k++;
        h->beds_seen++;
        if (h->n_beds == BP_HAVE_BEDS_MAX) continue;
        bp_have_bed_t *b = &h->beds[h->n_beds++];
        char prefix[48];
        snprintf(prefix, sizeof prefix, "%.47s", h->path);
        snprintf(b->path, sizeof b->path, "%.44s/HospitalBedCapacityStatus/BedCapacity[%u]", prefix,
                 (unsigned)k);
        read_bed(bc, b);
    }
    for (const xmlNode *n = find(hn->children, BP_HAVE_NS, "LastUpdateTime"); n;
         n = find(n->next, BP_HAVE_NS, "LastUpdateTime"))
        value_of(n, &h->last_update);
}

static const xmlNode *next_element(const xmlNode *n) {
    while (n && n->type != XML_ELEMENT_NODE)
        n = n->next;
    return n;
}

/* How deep elements nest under root (root at depth 1), walked without
 * recursion; stops as soon as it passes max. */
static int depth_of(const xmlNode *root, int max) {
    int deepest = 0, d = 1;
    const xmlNode *n = root;
    for (;;) {
        if (d > deepest) deepest = d;
        if (deepest > max) return deepest;
        const xmlNode *c = next_element(n->children);
        if (c) {
            n = c;
            d++;
            continue;
        }
        for (;;) {
            if (n == root) return deepest;
            const xmlNode *s = next_element(n->next);
            if (s) {
                n = s;
                break;
            }
            n = n->parent;
            d--;
        }
    }
}

static void read_status(const xmlNode *hs, const char *prefix, const bp_registry_t *reg,
                        const bp_state_t *cur, int64_t now_ms, int64_t skew, bp_import_t *im) {
    size_t k = 0;
    static bp_have_hospital_t h; /* large; one loop thread, not reentrant */
    for (const xmlNode *hn = child(hs, BP_HAVE_NS, "Hospital"); hn;
         hn = find(hn->next, BP_HAVE_NS, "Hospital")) {
        memset(&h, 0, sizeof h);
        snprintf(h.path, sizeof h.path, "%s/Hospital[%zu]", prefix, ++k);
        if (k > im->max) {
            bp_import_error(im, "too_many", h.path, "a document may report at most %zu hospitals",
                            im->max);
            return;
        }
        read_hospital(hn, &h);
        bp_have_import(&h, reg, cur, now_ms, skew, im);
        if (im->errs.n == BP_ERRORS_MAX) return;
    }
    if (k == 0) bp_import_error(im, "missing_field", prefix, "%s has no Hospital", prefix);
}

int bp_havexml_parse(const char *xml, size_t len, const bp_registry_t *reg, const bp_state_t *cur,
                     int64_t now_ms, int64_t max_skew_ms, bp_import_t *im) {
    if (len == 0 || len > INT32_MAX) {
        bp_import_error(im, "bad_xml", "", "the body must be one XML document");
        return -1;
    }
    /* No DTD, no entities: refused before libxml2 sees them (external
     * entities, entity expansion bombs). */
    if (memmem(xml, len, "<!DOCTYPE", 9) || memmem(xml, len, "<!ENTITY", 8)) {
        bp_import_error(im, "bad_xml", "",
                        "documents with a DTD or entity declarations are not accepted");
        return -1;
    }
    xmlParserCtxtPtr ctx = xmlNewParserCtxt();
    if (!ctx) {
        bp_import_error(im, "no_memory", "", "out of memory");
        return -1;
    }
    xmlDocPtr doc = xmlCtxtReadMemory(ctx, xml, (int)len, NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                          XML_PARSE_NOCDATA);
    const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!doc || !root) {
        const xmlError *e = xmlCtxtGetLastError(ctx);
        char msg[160];
        snprintf(msg, sizeof msg, "%s", e && e->message ? e->message : "not well-formed");
        msg[strcspn(msg, "\n")] = '\0';
        bp_import_error(im, "bad_xml", "", "not well-formed XML (line %d): %s", e ? e->line : 0,
                        msg);
    } else if (doc->intSubset || doc->extSubset) {
        bp_import_error(im, "bad_xml", "", "documents with a DTD are not accepted");
    } else if (depth_of(root, BP_HAVE_XML_MAX_DEPTH) > BP_HAVE_XML_MAX_DEPTH) {
        bp_import_error(im, "too_deep", "", "elements nest deeper than %d levels",
                        BP_HAVE_XML_MAX_DEPTH);
    } else if (is(root, BP_HAVE_NS, "HospitalStatus")) {
        read_status(root, "HospitalStatus", reg, cur, now_ms, max_skew_ms, im);
    } else if (is(root, BP_DE_NS, "EDXLDistribution")) {
        /* contentObject/xmlContent/embeddedXMLContent/HospitalStatus */
        size_t n = 0;
        for (const xmlNode *co = child(root, BP_DE_NS, "contentObject"); co;
             co = find(co->next, BP_DE_NS, "contentObject")) {
            const xmlNode *emb =
                child(child(co, BP_DE_NS, "xmlContent"), BP_DE_NS, "embeddedXMLContent");
            for (const xmlNode *hs = child(emb, BP_HAVE_NS, "HospitalStatus"); hs;
                 hs = find(hs->next, BP_HAVE_NS, "HospitalStatus")) {
                char prefix[64];
                snprintf(prefix, sizeof prefix, "EDXLDistribution/HospitalStatus[%zu]", ++n);
                read_status(hs, prefix, reg, cur, now_ms, max_skew_ms, im);
            }
        }
        if (n == 0)
            bp_import_error(im, "missing_field", "EDXLDistribution",
                            "the EDXL-DE envelope holds no HAVE HospitalStatus");
    } else {
        bp_import_error(im, "bad_value", "",
                        "the root element must be HospitalStatus in namespace " BP_HAVE_NS
                        " (or an EDXL-DE EDXLDistribution holding one)");
    }
    if (doc) xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctx);
    if (!im->errs.n) {
        /* one report per hospital and document */
        for (size_t i = 0; i < im->n; i++)
            for (size_t j = 0; j < i; j++)
                if (im->items[i].hospital == im->items[j].hospital) {
                    bp_import_error(im, "duplicate_field", im->items[i].path,
                                    "%s: hospital %s is already reported at %s", im->items[i].path,
                                    reg->hospitals[im->items[i].hospital].id, im->items[j].path);
                    i = im->n;
                    break;
                }
    }
    if (im->errs.n) im->n = 0; /* refused whole: nothing to apply */
    return im->errs.n ? -1 : 0;
}

/* -- writing ----------------------------------------------------------------- */

/* Writes one hospital; <0 when libxml2 failed. */
static int write_hospital(xmlTextWriterPtr w, const bp_have_out_t *h) {
    int rc = 0;
    char when[32];
#define W(call)                                                                                    \
    do {                                                                                           \
        if (rc >= 0) rc = (call);                                                                  \
    } while (0)
    W(xmlTextWriterStartElement(w, X("Hospital")));
    W(xmlTextWriterStartElement(w, X("Organization")));
    W(xmlTextWriterStartElement(w, X("OrganizationInformation")));
    W(xmlTextWriterStartElementNS(w, X("xnl"), X("OrganisationName"), NULL));
    W(xmlTextWriterWriteAttributeNS(w, X("xnl"), X("ID"), NULL, X(h->id)));
    W(xmlTextWriterWriteAttributeNS(w, X("ct"), X("LanguageCode"), NULL, X("vi")));
    W(xmlTextWriterWriteElementNS(w, X("xnl"), X("NameElement"), NULL, X(h->name_vi)));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterStartElementNS(w, X("xnl"), X("OrganisationName"), NULL));
    W(xmlTextWriterWriteAttributeNS(w, X("ct"), X("LanguageCode"), NULL, X("en")));
    W(xmlTextWriterWriteElementNS(w, X("xnl"), X("NameElement"), NULL, X(h->name_en)));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndElement(w)); /* OrganizationInformation */
    W(xmlTextWriterStartElement(w, X("OrganizationGeoLocation")));
    W(xmlTextWriterStartElementNS(w, X("gml"), X("Point"), NULL));
    W(xmlTextWriterWriteFormatElementNS(w, X("gml"), X("pos"), NULL, "%.6f %.6f", h->lat, h->lon));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndElement(w)); /* Organization */
    W(xmlTextWriterStartElement(w, X("EmergencyDepartmentStatus")));
    W(xmlTextWriterStartElement(w, X("EMSTraffic")));
    W(xmlTextWriterWriteElement(w, X("EMSTrafficStatus"), X(h->traffic)));
    if (h->reason[0]) W(xmlTextWriterWriteElement(w, X("EMSTrafficReason"), X(h->reason)));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterStartElement(w, X("EMSAmbulanceStatus")));
    W(xmlTextWriterWriteElement(w, X("EMSOffloadStatus"), X(h->offload)));
    if (h->offload_minutes >= 0)
        W(xmlTextWriterWriteFormatElement(w, X("EMSOffloadMinutes"), "%lld",
                                          (long long)h->offload_minutes));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndElement(w)); /* EmergencyDepartmentStatus */
    if (h->n_beds) {
        W(xmlTextWriterStartElement(w, X("HospitalBedCapacityStatus")));
        for (size_t k = 0; k < h->n_beds; k++) {
            const bp_have_counts_t *c = &h->beds[k].counts;
            W(xmlTextWriterStartElement(w, X("BedCapacity")));
            W(xmlTextWriterWriteElement(w, X("BedType"), X(h->beds[k].have)));
            if (c->baseline >= 0 || c->available >= 0 || c->additional >= 0) {
                W(xmlTextWriterStartElement(w, X("Capacity")));
                if (c->status) W(xmlTextWriterWriteElement(w, X("CapacityStatus"), X(c->status)));
                if (c->available >= 0)
                    W(xmlTextWriterWriteFormatElement(w, X("AvailableCount"), "%d", c->available));
                if (c->baseline >= 0)
                    W(xmlTextWriterWriteFormatElement(w, X("BaselineCount"), "%d", c->baseline));
                if (c->additional >= 0)
                    W(xmlTextWriterWriteFormatElement(w, X("AdditionalCapacityCount24Hr"), "%d",
                                                      c->additional));
                W(xmlTextWriterEndElement(w));
            }
            W(xmlTextWriterEndElement(w));
        }
        W(xmlTextWriterEndElement(w));
    }
    if (h->svc_has) {
        /* in the schema's order; an *Indicator wraps its boolean (or sub-type) */
        static const struct {
            int svc;
            const char *wrap, *sub, *name;
        } map[] = {
            {BP_SVC_BURN_UNIT, NULL, NULL, "Burn"},
            {BP_SVC_CATH_LAB, "CardiologyIndicator", "CardiologySubType", "CardiologyInvasive"},
            {BP_SVC_DIALYSIS, NULL, NULL, "Dialysis"},
            {BP_SVC_STROKE_UNIT, "NeurologyIndicator", NULL, "Neurology"},
            {BP_SVC_OBSTETRIC_ED, "OBGYNIndicator", NULL, "OBGYN"},
            {BP_SVC_PEDIATRIC_ED, NULL, NULL, "Pediatrics"},
            {BP_SVC_PSYCHIATRIC_ED, "PsychiatricIndicator", NULL, "Psychiatric"},
            {BP_SVC_TRAUMA, "TraumaCenterServicesIndicator", NULL, "TraumaCenterServices"},
        };
        W(xmlTextWriterStartElement(w, X("ServiceCoverageStatus")));
        for (size_t k = 0; k < sizeof map / sizeof *map; k++) {
            if (!(h->svc_has >> map[k].svc & 1)) continue;
            const char *v = h->svc_up >> map[k].svc & 1 ? "true" : "false";
            if (map[k].wrap) W(xmlTextWriterStartElement(w, X(map[k].wrap)));
            if (map[k].sub) W(xmlTextWriterStartElement(w, X(map[k].sub)));
            W(xmlTextWriterWriteElement(w, X(map[k].name), X(v)));
            if (map[k].sub) W(xmlTextWriterEndElement(w));
            if (map[k].wrap) W(xmlTextWriterEndElement(w));
        }
        W(xmlTextWriterEndElement(w)); /* ServiceCoverageStatus */
    }
    if (h->facility) {
        W(xmlTextWriterStartElement(w, X("HospitalFacilityStatus")));
        W(xmlTextWriterWriteElement(w, X("FacilityStatus"), X(h->facility)));
        W(xmlTextWriterEndElement(w));
    }
    bp_time_format(h->at_ms, when);
    W(xmlTextWriterWriteElement(w, X("LastUpdateTime"), X(when)));
    W(xmlTextWriterEndElement(w)); /* Hospital */
#undef W
    return rc;
}

/* The view of hospital i, or false when it is left out. */
static bool view_of(const bp_state_t *st, const bp_handover_t *handover, size_t i, int64_t now_ms,
                    bp_have_out_t *h) {
    int64_t median = -1;
    if (handover) {
        bp_handover_figures_t f;
        bp_handover_figures(handover, i, now_ms, &f);
        if (f.samples > 0) median = f.median_ms;
    }
    return bp_have_view(st, i, now_ms, median, h);
}

/* Writes the document of n views; <0 when libxml2 or the buffer failed. */
static int write_views(bp_buf_t *out, const bp_have_out_t *views, size_t n) {
    xmlBufferPtr buf = xmlBufferCreateSize(64 * 1024);
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    if (!w) {
        if (buf) xmlBufferFree(buf);
        return -1;
    }
    /* no encoding named: UTF-8, and libxml2 then runs no encoder over every write */
    int rc = xmlTextWriterStartDocument(w, NULL, NULL, NULL);
    if (rc >= 0) rc = xmlTextWriterStartElementNS(w, NULL, X("HospitalStatus"), X(BP_HAVE_NS));
    if (rc >= 0) rc = xmlTextWriterWriteAttribute(w, X("xmlns:xnl"), X(BP_XNL_NS));
    if (rc >= 0) rc = xmlTextWriterWriteAttribute(w, X("xmlns:ct"), X(BP_CT_NS));
    if (rc >= 0) rc = xmlTextWriterWriteAttribute(w, X("xmlns:gml"), X(BP_GML_NS));
    for (size_t i = 0; i < n && rc >= 0; i++)
        rc = write_hospital(w, &views[i]);
    if (rc >= 0) rc = xmlTextWriterEndDocument(w);
    xmlFreeTextWriter(w); /* flushes into buf */
    if (rc >= 0) bp_buf_put(out, xmlBufferContent(buf), (size_t)xmlBufferLength(buf));
    xmlBufferFree(buf);
    return rc < 0 || out->failed ? -1 : 0;
}

int bp_havexml_write(bp_buf_t *out, const bp_state_t *st, const bp_handover_t *handover, int only,
                     int64_t now_ms) {
    const bp_registry_t *r = bp_state_registry(st);
    bp_have_out_t *views = calloc(r->n_hospitals ? r->n_hospitals : 1, sizeof *views);
    if (!views) return -1;
    size_t n = 0;
    for (size_t i = 0; i < r->n_hospitals; i++)
        if ((only < 0 || (size_t)only == i) && view_of(st, handover, i, now_ms, &views[n])) n++;
    int rc = n ? write_views(out, views, n) : 0;
    free(views);
    return rc < 0 ? -1 : (int)n;
}

/* Per hospital: the view its fragment (its Hospital element) was written
 * from. Per document: which hospitals it holds, and its bytes. */
typedef struct {
    bp_have_out_t view;
    bp_buf_t xml;
    bool written;
} frag_t;

struct bp_havexml_cache {
    frag_t *frags; /* by registry index */
    size_t n_frags;
    bool *in_doc, *in_now; /* by registry index: in the document, reported now */
    bp_buf_t doc;
    bool doc_valid;
};

bp_havexml_cache_t *bp_havexml_cache_create(void) {
    bp_havexml_cache_t *c = calloc(1, sizeof *c);
    if (c) bp_buf_init(&c->doc, 0, 64u << 20);
    return c;
}

void bp_havexml_cache_destroy(bp_havexml_cache_t *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n_frags; i++)
        bp_buf_free(&c->frags[i].xml);
    free(c->frags);
    free(c->in_doc);
    free(c->in_now);
    bp_buf_free(&c->doc);
    free(c);
}

/* One Hospital element on its own (the root declares the namespaces it
 * uses: the fragment is only ever placed inside it). */
static int write_fragment(bp_buf_t *out, const bp_have_out_t *h) {
    xmlBufferPtr buf = xmlBufferCreateSize(4096);
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    if (!w) {
        if (buf) xmlBufferFree(buf);
        return -1;
    }
    int rc = write_hospital(w, h);
    if (rc >= 0) rc = xmlTextWriterFlush(w);
    xmlFreeTextWriter(w);
    bp_buf_reset(out);
    if (rc >= 0) bp_buf_put(out, xmlBufferContent(buf), (size_t)xmlBufferLength(buf));
    xmlBufferFree(buf);
    return rc < 0 || out->failed ? -1 : 0;
}

/* The document from the fragments of the hospitals in `in`. */
static int assemble(bp_havexml_cache_t *c, size_t n_hospitals) {
    xmlBufferPtr buf = xmlBufferCreateSize(256 * 1024);
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    if (!w) {
        if (buf) xmlBufferFree(buf);
        return -1;
    }
    int rc = xmlTextWriterStartDocument(w, NULL, NULL, NULL);
    if (rc >= 0) rc = xmlTextWriterStartElementNS(w, NULL, X("HospitalStatus"), X(BP_HAVE_NS));
    if (rc >= 0) rc = xmlTextWriterWriteAttribute(w, X("xmlns:xnl"), X(BP_XNL_NS));
    if (rc >= 0) rc = xmlTextWriterWriteAttribute(w, X("xmlns:ct"), X(BP_CT_NS));
    if (rc >= 0) rc = xmlTextWriterWriteAttribute(w, X("xmlns:gml"), X(BP_GML_NS));
    for (size_t i = 0; i < n_hospitals && rc >= 0; i++)
        if (c->in_doc[i])
            rc = xmlTextWriterWriteRawLen(w, (const xmlChar *)bp_buf_data(&c->frags[i].xml),
                                          (int)c->frags[i].xml.len);
    if (rc >= 0) rc = xmlTextWriterEndDocument(w);
    xmlFreeTextWriter(w);
    bp_buf_reset(&c->doc);
    if (rc >= 0) bp_buf_put(&c->doc, xmlBufferContent(buf), (size_t)xmlBufferLength(buf));
    xmlBufferFree(buf);
    return rc < 0 || c->doc.failed ? -1 : 0;
}

int bp_havexml_write_all(bp_havexml_cache_t *c, bp_buf_t *out, const bp_state_t *st,
                         const bp_handover_t *handover, int64_t now_ms, bool *hit) {
    const bp_registry_t *r = bp_state_registry(st);
    *hit = false;
    if (c->n_frags < r->n_hospitals) {
        frag_t *f = realloc(c->frags, r->n_hospitals * sizeof *f);
        bool *a = realloc(c->in_doc, r->n_hospitals * sizeof *a);
        if (f) c->frags = f;
        if (a) c->in_doc = a;
        bool *b = realloc(c->in_now, r->n_hospitals * sizeof *b);
        if (b) c->in_now = b;
        if (!f || !a || !b) return -1;
        for (size_t i = c->n_frags; i < r->n_hospitals; i++) {
            memset(&c->frags[i], 0, sizeof c->frags[i]);
            bp_buf_init(&c->frags[i].xml, 0, 1u << 20);
            c->in_doc[i] = false;
        }
        c->n_frags = r->n_hospitals;
        c->doc_valid = false;
    }
    /* a hospital's fragment is written anew only when its view changed
     * (views are zeroed before filling: equal views are equal bytes) */
    static bp_have_out_t v;
    size_t n = 0;
    bool same = c->doc_valid;
    for (size_t i = 0; i < r->n_hospitals; i++) {
        frag_t *f = &c->frags[i];
        c->in_now[i] = view_of(st, handover, i, now_ms, &v);
        if (c->in_now[i] != c->in_doc[i]) same = false;
        if (!c->in_now[i]) continue;
        n++;
        if (f->written && memcmp(&f->view, &v, sizeof v) == 0) continue;
        f->written = false;
        if (write_fragment(&f->xml, &v)) return -1;
        f->view = v;
        f->written = true;
        same = false;
    }
    if (n == 0) return 0;
    if (same) {
        *hit = true;
    } else {
        memcpy(c->in_doc, c->in_now, r->n_hospitals * sizeof *c->in_doc);
        c->doc_valid = false;
        if (assemble(c, r->n_hospitals)) return -1;
        c->doc_valid = true;
    }
    bp_buf_put(out, bp_buf_data(&c->doc), c->doc.len);
    return out->failed ? -1 : (int)n;
}

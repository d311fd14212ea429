/* EDXL-HAVE 1.0 XML through libxml2 (io/bp_havexml): both layouts seen in
 * the field, the EDXL-DE envelope, what hardening refuses, and an export
 * that reads back as the state it came from. */
#include "bp_havexml.h"
#include "bp_interop.h"
#include "test_util.h"

static bp_registry_t reg;
static bp_state_t *st;
static int bm;
static const int64_t NOW = 1795000000000; /* 2026-11-18T11:06:40Z */

static int setup(void **state) {
    (void)state;
    tu_load_registry(&reg);
    st = bp_state_create(&reg, NULL, 0);
    bm = bp_registry_hospital(&reg, "bach-mai", 8);
    bp_change_t c;
    bp_change_init(&c, BP_KIND_HOSPITAL);
    snprintf(c.id, sizeof c.id, "bach-mai");
    c.at_ms = NOW - 60123;
    c.bed_fields[BP_BED_ICU_ADULT] = BP_BF_STAFFED | BP_BF_OCCUPIED | BP_BF_SURGE24;
    c.beds[BP_BED_ICU_ADULT] = (bp_beds_t){60, 63, 8}; /* overflow */
    c.bed_fields[BP_BED_BURN] = BP_BF_OCCUPIED;
    c.beds[BP_BED_BURN].occupied = 2;
    c.has_ed = true;
    c.ed.status = BP_ED_CLOSED;
    c.ed.waiting = 7;
    c.ed.until_ms = NOW + 3600000;
    snprintf(c.ed.reason, sizeof c.ed.reason, "fire & <smoke>");
    bp_state_apply(st, &c);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    bp_state_destroy(st);
    bp_registry_free(&reg);
    return 0;
}

static int parse(const char *xml, bp_import_t *im, const bp_state_t *cur) {
    bp_import_init(im, reg.n_hospitals);
    return bp_havexml_parse(xml, strlen(xml), &reg, cur, NOW, 300000, im);
}

#define HEAD                                                                                       \
    "<?xml version=\"1.0\"?><have:HospitalStatus xmlns:have=\"" BP_HAVE_NS                         \
    "\" xmlns:xnl=\"" BP_XNL_NS "\">"
#define ORG(id)                                                                                    \
    "<have:Organization><have:OrganizationInformation><xnl:OrganisationName xnl:ID=\"" id          \
    "\"><xnl:NameElement>N</xnl:NameElement></xnl:OrganisationName></"                             \
    "have:OrganizationInformation>"                                                                \
    "</have:Organization>"
#define TAIL "</have:HospitalStatus>"

static void test_schema_layout(void **state) {
    (void)state;
    const char *xml = HEAD "<have:Hospital>" ORG(
        "bach-mai") "<have:EmergencyDepartmentStatus><have:EMSTraffic><have:EMSTrafficStatus>"
                    "Advisory"
                    "</have:EMSTrafficStatus><have:EMSTrafficReason>busy</have:EMSTrafficReason>"
                    "</have:EMSTraffic></have:EmergencyDepartmentStatus>"
                    "<have:HospitalBedCapacityStatus><have:BedCapacity><have:BedType>Burn</"
                    "have:BedType>"
                    "<have:Capacity><have:CapacityStatus>Vacant/Available</have:CapacityStatus>"
                    "<have:AvailableCount>3</have:AvailableCount><have:BaselineCount>5</"
                    "have:BaselineCount>"
                    "<have:AdditionalCapacityCount24Hr>1</have:AdditionalCapacityCount24Hr></"
                    "have:Capacity>"
                    "</have:BedCapacity></have:HospitalBedCapacityStatus>"
                    "<have:LastUpdateTime>2026-11-18T08:00:00.250+07:00</have:LastUpdateTime>"
                    "</have:Hospital>" TAIL;
    bp_import_t im;
    assert_int_equal(parse(xml, &im, st), 0);
    assert_int_equal(im.n, 1);
    const bp_change_t *c = &im.items[0].change;
    assert_int_equal(im.items[0].hospital, bm);
    assert_int_equal(c->beds[BP_BED_BURN].staffed, 5);
    assert_int_equal(c->beds[BP_BED_BURN].occupied, 2);
    assert_int_equal(c->beds[BP_BED_BURN].surge24, 1);
    assert_int_equal(c->ed.status, BP_ED_ADVISORY);
    assert_string_equal(c->ed.reason, "busy");
    assert_int_equal(c->at_ms, 1794963600250);
    bp_import_free(&im);
}

/* Sahana Eden: counts straight under BedCapacity, "VacantAvailable", no
 * EMSTraffic wrapper; and gml:coordinates, which are not read anyway. */
static void test_sahana_layout(void **state) {
    (void)state;
    const char *xml = HEAD "<have:Hospital>" ORG(
        "viet-duc") "<have:EmergencyDepartmentStatus><have:EMSTrafficStatus>closed</"
                    "have:EMSTrafficStatus>"
                    "</have:EmergencyDepartmentStatus>"
                    "<have:HospitalBedCapacityStatus><have:BedCapacity><have:BedType>AdultICU</"
                    "have:BedType>"
                    "<have:CapacityStatus>VacantAvailable</have:CapacityStatus>"
                    "<have:AvailableCount>4</have:AvailableCount><have:BaselineCount>20</"
                    "have:BaselineCount>"
                    "</have:BedCapacity></have:HospitalBedCapacityStatus>"
                    "<have:HospitalResourceStatus/>" /* Sahana's misspelling: ignored */
                    "<have:LastUpdateTime>2026-11-18T08:00:00Z</have:LastUpdateTime></"
                    "have:Hospital>" TAIL;
    bp_import_t im;
    assert_int_equal(parse(xml, &im, st), 0);
    const bp_change_t *c = &im.items[0].change;
    assert_int_equal(c->beds[BP_BED_ICU_ADULT].occupied, 16);
    assert_int_equal(c->ed.status, BP_ED_DIVERSION);
    bp_import_free(&im);
}

static void test_de_envelope(void **state) {
    (void)state;
    const char *xml =
        "<de:EDXLDistribution xmlns:de=\"" BP_DE_NS "\" xmlns:have=\"" BP_HAVE_NS
        "\" xmlns:xnl=\"" BP_XNL_NS "\"><de:contentObject><de:xmlContent><de:embeddedXMLContent>"
        "<have:HospitalStatus><have:Hospital>" ORG(
            "bach-mai") "<have:LastUpdateTime>2026-11-18T08:00:00Z</have:LastUpdateTime></"
                        "have:Hospital>"
                        "</have:HospitalStatus></de:embeddedXMLContent></de:xmlContent></"
                        "de:contentObject>"
                        "</de:EDXLDistribution>";
    bp_import_t im;
    assert_int_equal(parse(xml, &im, st), 0);
    assert_int_equal(im.n, 1);
    assert_string_equal(im.items[0].path, "EDXLDistribution/HospitalStatus[1]/Hospital[1]");
    bp_import_free(&im);
}

static void expect_error(const char *xml, const char *code, const char *field) {
    bp_import_t im;
    if (parse(xml, &im, st) == 0) fail_msg("accepted, expected %s at %s", code, field);
    assert_string_equal(im.errs.e[0].code, code);
    assert_string_equal(im.errs.e[0].field, field);
    assert_int_equal(im.n, 0);
    bp_import_free(&im);
}

static void test_refused(void **state) {
    (void)state;
    /* no DTD, no entities (XXE, expansion bombs) */
    expect_error("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
                 "<x>&e;</x>",
                 "bad_xml", "");
    expect_error("<!DOCTYPE x SYSTEM \"http://example.org/x.dtd\"><x/>", "bad_xml", "");
    expect_error("<x><y></x>", "bad_xml", "");
    expect_error("", "bad_xml", "");
    expect_error("<HospitalStatus/>", "bad_value", ""); /* no namespace */
    expect_error(HEAD TAIL, "missing_field", "HospitalStatus");
    /* too deep */
    char deep[4096] = HEAD "<have:Hospital>";
    for (int i = 0; i < 40; i++)
        strcat(deep, "<have:Organization>");
    for (int i = 0; i < 40; i++)
        strcat(deep, "</have:Organization>");
    strcat(deep, "</have:Hospital>" TAIL);
    expect_error(deep, "too_deep", "");
    /* the same hospital twice */
    expect_error(HEAD "<have:Hospital>" ORG(
                     "bach-mai") "<have:LastUpdateTime>2026-11-18T08:00:00Z</have:LastUpdateTime></"
                                 "have:Hospital>"
                                 "<have:Hospital>" ORG(
                                     "bach-mai") "<have:LastUpdateTime>2026-11-18T08:00:00Z</"
                                                 "have:LastUpdateTime></have:Hospital>" TAIL,
                 "duplicate_field", "HospitalStatus/Hospital[2]");
    /* an unknown hospital, named with its element */
    expect_error(
        HEAD "<have:Hospital>" ORG("nowhere") "<have:LastUpdateTime>2026-11-18T08:00:00Z</"
                                              "have:LastUpdateTime></have:Hospital>" TAIL,
        "unknown_hospital",
        "HospitalStatus/Hospital[1]/Organization/OrganizationInformation/OrganisationName/@xnl:ID");
    expect_error(
        HEAD "<have:Hospital>" ORG(
            "bach-mai") "<have:HospitalBedCapacityStatus><have:BedCapacity><have:BedType>Maternity"
                        "</have:BedType></have:BedCapacity></have:HospitalBedCapacityStatus>"
                        "<have:LastUpdateTime>2026-11-18T08:00:00Z</have:LastUpdateTime></"
                        "have:Hospital>" TAIL,
        "unknown_bed_type",
        "HospitalStatus/Hospital[1]/HospitalBedCapacityStatus/BedCapacity[1]/BedType");
}

/* An export read back changes nothing: overflow, the ED's expiry and
 * waiting count, and "closed" survive the trip through HAVE. */
static void test_round_trip(void **state) {
    (void)state;
    bp_buf_t b;
    bp_buf_init(&b, 0, 8u << 20);
    assert_int_equal(bp_havexml_write(&b, st, NULL, -1, NOW), 1); /* only bach-mai reported */
    assert_non_null(strstr(bp_buf_data(&b), "xnl:ID=\"bach-mai\""));
    assert_non_null(strstr(bp_buf_data(&b), "ED closed: fire &amp; &lt;smoke&gt;"));
    bp_import_t im;
    bp_import_init(&im, reg.n_hospitals);
    assert_int_equal(bp_havexml_parse(bp_buf_data(&b), b.len, &reg, st, NOW, 300000, &im), 0);
    assert_int_equal(im.n, 1);
    bp_import_item_t *it = &im.items[0];
    assert_int_equal(it->change.at_ms, NOW - 60123);
    assert_int_equal(it->change.ed.status, BP_ED_CLOSED);
    assert_true(
        bp_interop_refine(&it->change, bp_state_hospital(st, (size_t)bm), it->at_least, NOW));
    bp_import_free(&im);
    /* nothing reported: nothing written (HAVE needs a Hospital) */
    bp_buf_reset(&b);
    assert_int_equal(bp_havexml_write(&b, st, NULL, bp_registry_hospital(&reg, "viet-duc", 8), NOW),
                     0);
    assert_int_equal(b.len, 0);
    bp_buf_free(&b);
}

/* The remembered document is byte for byte the one written whole, whatever
 * changed since; unchanged views are a hit. */
static void test_cache(void **state) {
    (void)state;
    bp_havexml_cache_t *c = bp_havexml_cache_create();
    bp_buf_t a, b;
    bp_buf_init(&a, 0, 8u << 20);
    bp_buf_init(&b, 0, 8u << 20);
    bool hit;
    assert_int_equal(bp_havexml_write_all(c, &a, st, NULL, NOW, &hit), 1);
    assert_false(hit);
    assert_int_equal(bp_havexml_write(&b, st, NULL, -1, NOW), 1);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(bp_buf_data(&a), bp_buf_data(&b), a.len);
    bp_buf_reset(&a);
    assert_int_equal(bp_havexml_write_all(c, &a, st, NULL, NOW, &hit), 1);
    assert_true(hit);
    /* another hospital reports, then one changes: the same bytes as whole */
    const char *ids[] = {"viet-duc", "bach-mai"};
    for (int k = 0; k < 2; k++) {
        bp_change_t ch;
        bp_change_init(&ch, BP_KIND_HOSPITAL);
        snprintf(ch.id, sizeof ch.id, "%s", ids[k]);
        ch.at_ms = NOW - 1000 + k;
        ch.bed_fields[BP_BED_BURN] = BP_BF_OCCUPIED;
        ch.beds[BP_BED_BURN].occupied = 1 + k;
        bp_state_apply(st, &ch);
        bp_buf_reset(&a);
        bp_buf_reset(&b);
        assert_int_equal(bp_havexml_write_all(c, &a, st, NULL, NOW, &hit), 2);
        assert_false(hit);
        assert_int_equal(bp_havexml_write(&b, st, NULL, -1, NOW), 2);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(bp_buf_data(&a), bp_buf_data(&b), a.len);
    }
    /* time alone can change a view: the closed ED's end passes */
    bp_buf_reset(&a);
    assert_int_equal(bp_havexml_write_all(c, &a, st, NULL, NOW + 7200000, &hit), 2);
    assert_false(hit);
    assert_null(strstr(bp_buf_data(&a), "ED closed"));
    bp_buf_free(&a);
    bp_buf_free(&b);
    bp_havexml_cache_destroy(c);
    bp_havexml_cache_destroy(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_layout), cmocka_unit_test(test_sahana_layout),
        cmocka_unit_test(test_de_envelope),   cmocka_unit_test(test_refused),
        cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

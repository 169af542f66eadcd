/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <string.h>

#include "config.h"
#include "parse-util.h"
#include "strv.h"
#include "yaml-util.h"

/*
 * The kube: section of cchost.yaml (issue 15). Everything is checked here, where the file and line
 * are known, so that kube-bootstrap/ never meets a value kubeadm or the API server would refuse
 * minutes later. Defaults are applied by the users (NULL / 0 here means "not set").
 */

/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 */
static bool dns_label(const char *s, size_t n) {
        if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(islower((unsigned char) s[i]) || isdigit((unsigned char) s[i]) || s[i] == '-'))
                        return false;
        return true;
}

/* RFC 1123 subdomain: labels joined by dots, at most 253 */
static bool dns_subdomain(const char *s, size_t n) {
        size_t start = 0;

        if (n == 0 || n > 253)
                return false;
        for (size_t i = 0; i <= n; i++)
                if (i == n || s[i] == '.') {
                        if (!dns_label(s + start, i - start))
                                return false;
                        start = i + 1;
                }
        return true;
}

/* a label or taint name/value part: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63 (empty if allowed) */
static bool qualified_part(const char *s, size_t n, bool empty_ok) {
        if (n == 0)
                return empty_ok;
        if (n > 63 || !isalnum((unsigned char) s[0]) || !isalnum((unsigned char) s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(isalnum((unsigned char) s[i]) || strchr("-_.", s[i])))
                        return false;
        return true;
}

/* [prefix/]name, the key of a label or taint */
static bool qualified_name(const char *s, size_t n) {
        const char *slash = memchr(s, '/', n);

        if (!slash)
                return qualified_part(s, n, false);
        return dns_subdomain(s, slash - s) && qualified_part(slash + 1, n - (slash - s) - 1, false);
}

/* the domain of a label key, and whether it is (a subdomain of) d */
static bool in_domain(const char *key, const char *d) {
        const char *slash = strchr(key, '/');
        size_t n = slash ? (size_t) (slash - key) : 0, dn = strlen(d);

        if (n < dn || memcmp(key + n - dn, d, dn) != 0)
                return false;
        return n == dn || key[n - dn - 1] == '.';
}

/*
 * What the NodeRestriction admission plugin lets a node set on itself (facts kube-join.md §3.4): any
 * label outside kubernetes.io and k8s.io; inside them only the kubelet's own and kubelet.kubernetes.io,
 * node.kubernetes.io (with subdomains); never node-role.kubernetes.io or node-restriction.kubernetes.io.
 */
static const char *label_forbidden(const char *key) {
        static const char *const kubelet_keys[] = {
                "kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os",
                "beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type",
                "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
                "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
                "beta.kubernetes.io/arch", "beta.kubernetes.io/os",
        };

        if (in_domain(key, "node-role.kubernetes.io"))
                return "node-role.kubernetes.io labels cannot be set by the node itself (NodeRestriction); "
                       "node.kubernetes.io/worker= is the self-settable worker label";
        if (in_domain(key, "node-restriction.kubernetes.io"))
                return "node-restriction.kubernetes.io labels are reserved for the cluster admin (NodeRestriction)";
        if (!in_domain(key, "kubernetes.io") && !in_domain(key, "k8s.io"))
                return NULL;
        if (in_domain(key, "kubelet.kubernetes.io") || in_domain(key, "node.kubernetes.io"))
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(kubelet_keys); i++)
                if (streq(key, kubelet_keys[i]))
                        return NULL;
        return "the node may not set labels under kubernetes.io or k8s.io except the kubelet's own, "
               "kubelet.kubernetes.io/ and node.kubernetes.io/ (NodeRestriction)";
}

static int key_api_server(YamlParse *p, yaml_node_t *v, void *userdata) {
        KubeConfig *k = userdata;
        const char *colon, *host;
        uint32_t port;
        size_t n;
        int r;

        r = yaml_get_string(p, v, "kube.api_server", &k->api_server);
        if (r < 0)
                return r;
        host = k->api_server;
        if (strstr(host, "://"))
                return yaml_fail(p, v, "kube.api_server: expected host:port (as kubeadm's apiServerEndpoint), "
                                 "without a scheme");
        if (host[0] == '[') {
                const char *end = strchr(host, ']');

                if (!end || end[1] != ':' || end == host + 1 ||
                    strspn(host + 1, "0123456789abcdefABCDEF:.") != (size_t) (end - host - 1))
                        return yaml_fail(p, v, "kube.api_server: expected [IPv6]:port");
                colon = end + 1;
        } else {
                colon = strrchr(host, ':');
                n = colon ? (size_t) (colon - host) : 0;
                if (!colon || n == 0 || memchr(host, ':', n))
                        return yaml_fail(p, v, "kube.api_server: expected host:port, e.g. cp.cluster.internal:6443");
                for (size_t i = 0; i < n; i++)
                        if (!(isalnum((unsigned char) host[i]) || host[i] == '-' || host[i] == '.'))
                                return yaml_fail(p, v, "kube.api_server: \"%.*s\" is not a host name or IPv4 address",
                                                 (int) n, host);
        }
        if (safe_atou32(colon + 1, &port) < 0 || port == 0 || port > 65535)
                return yaml_fail(p, v, "kube.api_server: the port must be 1..65535");
        return 0;
}

static int key_path(YamlParse *p, yaml_node_t *v, const char *key, char **dst) {
        int r = yaml_get_string(p, v, key, dst);

        if (r >= 0 && (*dst)[0] != '/')
                return yaml_fail(p, v, "%s: expected an absolute path (under the root, like every path here)", key);
        if (r >= 0 && strstr(*dst, "/../"))
                return yaml_fail(p, v, "%s: no .. in the path", key);
        return r;
}

static int key_token_file(YamlParse *p, yaml_node_t *v, void *userdata) {
        KubeConfig *k = userdata;

        return key_path(p, v, "kube.token_file", &k->token_file);
}

static int key_ca_cert_hashes(YamlParse *p, yaml_node_t *v, void *userdata) {
        KubeConfig *k = userdata;

        if (v->type != YAML_SEQUENCE_NODE)
                return yaml_fail(p, v, "kube.ca_cert_hashes: expected a list of sha256:<64 hex> pins");
        for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
                yaml_node_t *item = yaml_document_get_node(&p->doc, *i);
                const char *s = yaml_scalar(item);
                char pin[7 + 64 + 1];
                int r;

                if (!s || strlen(s) != 7 + 64 || strncasecmp(s, "sha256:", 7) != 0 ||
                    strspn(s + 7, "0123456789abcdefABCDEF") != 64)
                        return yaml_fail(p, item, "kube.ca_cert_hashes: expected sha256:<64 hex digits> (the SHA-256 "
                                         "of the CA's SubjectPublicKeyInfo, as kubeadm prints it)");
                for (size_t j = 0; j < sizeof(pin) - 1; j++)
                        pin[j] = (char) tolower((unsigned char) s[j]);
                pin[sizeof(pin) - 1] = 0;
                if (strv_contains(k->ca_cert_hashes, pin))
                        return yaml_fail(p, item, "kube.ca_cert_hashes: %s is listed twice", pin);
                r = strv_extend(&k->ca_cert_hashes, pin);
                if (r < 0)
                        return r;
        }
        if (strv_isempty(k->ca_cert_hashes))
                return yaml_fail(p, v, "kube.ca_cert_hashes: at least one pin is needed (cchost never joins "
                                 "without checking the cluster's CA)");
        return 0;
}

static int key_node_name(YamlParse *p, yaml_node_t *v, void *userdata) {
        KubeConfig *k = userdata;
        int r = yaml_get_string(p, v, "kube.node_name", &k->node_name);

        if (r >= 0 && !dns_subdomain(k->node_name, strlen(k->node_name)))
                return yaml_fail(p, v, "kube.node_name: \"%.64s\" is not a valid node name (lowercase RFC 1123 "
                                 "subdomain, at most 253 characters)", k->node_name);
        return r;
}

static int key_version(YamlParse *p, yaml_node_t *v, void *userdata) {
        KubeConfig *k = userdata;
        const char *s = yaml_scalar(v);
        uint32_t minor;

        if (!s || yaml_is_empty(v))
                return yaml_fail(p, v, "kube.version: expected the cluster's version as 1.MINOR, e.g. \"1.31\"");
        if (s[0] == 'v')
                s++;
        if (!strneq(s, "1.", 2) || safe_atou32(s + 2, &minor) < 0 || minor < 20 || minor > 99)
                return yaml_fail(p, v, "kube.version: expected the cluster's version as 1.MINOR (1.20 or later), "
                                 "e.g. \"1.31\"");
        k->version_minor = minor;
        return 0;
}

static int key_labels(YamlParse *p, yaml_node_t *v, void *userdata) {
        KubeConfig *k = userdata;

        if (v->type != YAML_MAPPING_NODE)
                return yaml_fail(p, v, "kube.labels: expected a mapping of label: value");
        for (yaml_node_pair_t *pair = v->data.mapping.pairs.start; pair < v->data.mapping.pairs.top; pair++) {
                yaml_node_t *kn = yaml_document_get_node(&p->doc, pair->key);
                yaml_node_t *vn = yaml_document_get_node(&p->doc, pair->value);
                const char *key = yaml_scalar(kn), *value = yaml_scalar(vn), *why;
                char *s;
                int r;

                if (!value)
                        return yaml_fail(p, vn, "kube.labels: the value of %.64s must be a string", key);
                if (!qualified_name(key, strlen(key)))
                        return yaml_fail(p, kn, "kube.labels: \"%.64s\" is not a valid label key ([prefix/]name)", key);
                why = label_forbidden(key);
                if (why)
                        return yaml_fail(p, kn, "kube.labels: %.64s: %s", key, why);
                if (!qualified_part(value, strlen(value), true))
                        return yaml_fail(p, vn, "kube.labels: the value of %.64s is not a valid label value (at most "
                                         "63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends)", key);
                if (asprintf(&s, "%s=%s", key, value) < 0)
                        return -ENOMEM;
                r = strv_consume(&k->labels, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int key_register_taints(YamlParse *p, yaml_node_t *v, void *userdata) {
        KubeConfig *k = userdata;
        static const char *const effects[] = { "NoSchedule", "PreferNoSchedule", "NoExecute" };

        if (v->type != YAML_SEQUENCE_NODE)
                return yaml_fail(p, v, "kube.register_taints: expected a list of key[=value]:Effect");
        for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
                yaml_node_t *item = yaml_document_get_node(&p->doc, *i);
                const char *s = yaml_scalar(item), *colon, *eq;
                bool effect_ok = false;
                size_t key_len;
                int r;

                colon = s ? strrchr(s, ':') : NULL;
                if (!colon)
                        return yaml_fail(p, item, "kube.register_taints: expected key[=value]:Effect, e.g. "
                                         "cchost.io/not-ready=:NoSchedule");
                for (size_t j = 0; j < ELEMENTSOF(effects); j++)
                        effect_ok = effect_ok || streq(colon + 1, effects[j]);
                if (!effect_ok)
                        return yaml_fail(p, item, "kube.register_taints: the effect must be NoSchedule, "
                                         "PreferNoSchedule or NoExecute");
                eq = memchr(s, '=', colon - s);
                key_len = eq ? (size_t) (eq - s) : (size_t) (colon - s);
                if (!qualified_name(s, key_len) ||
                    (eq && !qualified_part(eq + 1, colon - eq - 1, true)))
                        return yaml_fail(p, item, "kube.register_taints: \"%.*s\" is not a valid taint key[=value]",
                                         (int) (colon - s), s);
                r = strv_extend(&k->register_taints, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int key_runtime_classes(YamlParse *p, yaml_node_t *v, void *userdata) {
        KubeConfig *k = userdata;
        int r = yaml_get_strv(p, v, "kube.runtime_classes", &k->runtime_classes);

        for (char **s = k->runtime_classes; r >= 0 && s && *s; s++)
                if (!dns_label(*s, strlen(*s)))
                        return yaml_fail(p, v, "kube.runtime_classes: \"%.64s\" is not a valid runtime handler name "
                                         "(RFC 1123 label, e.g. kata-qemu-tdx)", *s);
        return r;
}

static int key_kata_prefix(YamlParse *p, yaml_node_t *v, void *userdata) {
        KubeConfig *k = userdata;

        return key_path(p, v, "kube.kata_prefix", &k->kata_prefix);
}

static int key_containerd_config(YamlParse *p, yaml_node_t *v, void *userdata) {
        KubeConfig *k = userdata;

        return key_path(p, v, "kube.containerd_config", &k->containerd_config);
}

static int key_max_pods(YamlParse *p, yaml_node_t *v, void *userdata) {
        KubeConfig *k = userdata;
        int r = yaml_get_u64(p, v, "kube.max_pods", &k->max_pods);

        if (r >= 0 && (k->max_pods == 0 || k->max_pods > 2500))
                return yaml_fail(p, v, "kube.max_pods: expected 1..2500");
        return r;
}

static int key_require(YamlParse *p, yaml_node_t *v, void *userdata) {
        KubeConfig *k = userdata;
        static const char *const names[] = { "readiness", "hardening", "disk_encryption" };

        if (v->type != YAML_SEQUENCE_NODE)
                return yaml_fail(p, v, "kube.require: expected a list of readiness, hardening, disk_encryption "
                                 "(or [] for none)");
        k->require = 0;
        for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
                yaml_node_t *item = yaml_document_get_node(&p->doc, *i);
                int idx, r;

                r = yaml_get_enum(p, item, "kube.require", names, ELEMENTSOF(names), &idx);
                if (r < 0)
                        return r;
                k->require |= 1U << idx;
        }
        k->require_set = true;
        return 0;
}

static const YamlKey kube_keys[] = {
        { "api_server", key_api_server },
        { "token_file", key_token_file },
        { "ca_cert_hashes", key_ca_cert_hashes },
        { "node_name", key_node_name },
        { "version", key_version },
        { "labels", key_labels },
        { "register_taints", key_register_taints },
        { "runtime_classes", key_runtime_classes },
        { "kata_prefix", key_kata_prefix },
        { "containerd_config", key_containerd_config },
        { "max_pods", key_max_pods },
        { "require", key_require },
        {},
};

int config_kube_section(YamlParse *p, yaml_node_t *v, void *userdata) {
        Config *c = userdata;

        c->kube.configured = true;
        if (yaml_is_empty(v))
                return 0;
        return yaml_parse_mapping(p, v, "kube", kube_keys, &c->kube);
}

unsigned kube_config_require(const KubeConfig *k) {
        return k->require_set ? k->require : KUBE_REQUIRE_ALL;
}

void kube_config_done(KubeConfig *k) {
        free(k->api_server);
        free(k->token_file);
        strv_free(k->ca_cert_hashes);
        free(k->node_name);
        strv_free(k->labels);
        strv_free(k->register_taints);
        strv_free(k->runtime_classes);
        free(k->kata_prefix);
        free(k->containerd_config);
        *k = (KubeConfig) {};
}

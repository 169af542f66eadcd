/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * kube-bootstrap: joining the private cluster as a confidential-computing worker (issue 15). This
 * part: the bootstrap token, the discovery pre-flight (what kubeadm's token discovery checks, with
 * a reason instead of a timeout) and the capacity model. Library code: nothing here prints, and
 * the token secret never leaves KubeToken (no message, error or JSON holds it).
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "engine.h"
#include "host.h"

#define KUBE_TOKEN_ID_LEN 6
#define KUBE_TOKEN_SECRET_LEN 16

/* A bootstrap token ID.SECRET (facts kube-join.md §1.3). The secret is wiped when done. */
typedef struct KubeToken {
        char id[KUBE_TOKEN_ID_LEN + 1];        /* public: it names the token */
        char secret[KUBE_TOKEN_SECRET_LEN + 1]; /* private */
} KubeToken;

/*
 * Reads kube.token_file under the root: a regular file that only its owner can read (mode 0600 or
 * stricter), holding one token \A[a-z0-9]{6}\.[a-z0-9]{16}\z (a trailing newline allowed). Errors
 * name the file and the problem, never the content: -ENOENT, -EPERM (others may read it), -EBADMSG.
 */
int kube_token_read(Host *h, const KubeConfig *k, KubeToken *ret, char **ret_error);
void kube_token_done(KubeToken *t);

typedef enum KubePreflightStatus {
        KUBE_PREFLIGHT_OK,
        KUBE_PREFLIGHT_UNREACHABLE,   /* no TLS connection to the API server (the curl error) */
        KUBE_PREFLIGHT_BAD_ANSWER,    /* not a cluster-info ConfigMap (HTTP status, JSON, kubeconfig, JWS form) */
        KUBE_PREFLIGHT_TOKEN_UNKNOWN, /* no jws-kubeconfig-<token id>: the cluster does not know the token */
        KUBE_PREFLIGHT_SIGNATURE,     /* the JWS does not verify: the token secret is wrong */
        KUBE_PREFLIGHT_CA_PIN,        /* the CA in cluster-info matches none of kube.ca_cert_hashes */
        KUBE_PREFLIGHT_CHAIN,         /* the server's certificate is not signed by that CA (or names another host) */
        KUBE_PREFLIGHT_CHANGED,       /* cluster-info over the verified connection differs from the first answer */
        _KUBE_PREFLIGHT_STATUS_MAX,
        _KUBE_PREFLIGHT_STATUS_INVALID = -EINVAL,
} KubePreflightStatus;

const char *kube_preflight_status_to_string(KubePreflightStatus s);

typedef struct KubePreflight {
        KubePreflightStatus status;
        char *reason;      /* what is wrong, one sentence naming the server and the values (NULL when OK) */
        char *api_server;  /* host:port asked */
        char *token_id;
        char *ca_pin;      /* sha256:... of the CA cluster-info carries, once known */
        char *ca_subject;  /* its subject, once known */
        char *server;      /* the kubeconfig's server URL, once known */
} KubePreflight;

/*
 * Token discovery, as kubeadm does it before a join: GET kube-public/configmaps/cluster-info from
 * kube.api_server over TLS without trusting anything yet; verify its jws-kubeconfig-<token id>
 * detached JWS (HS256 keyed with the token secret, constant-time compare); check the SPKI SHA-256
 * of the CA in the embedded kubeconfig against kube.ca_cert_hashes; check that the server's own
 * certificate chains to that CA; fetch cluster-info again over TLS verified against that CA (host
 * name included) and require the same kubeconfig. Reads the token under the root and writes nothing.
 *
 * Returns 0 with ret->status (KUBE_PREFLIGHT_OK, or why the node cannot join with ret->reason), or
 * a negative errno for a configuration problem (a kube key missing, the token file unreadable or
 * malformed, libcurl missing) with the reason in *ret_error.
 */
int kube_preflight(Host *h, const Config *c, KubePreflight *ret, char **ret_error);
void kube_preflight_done(KubePreflight *p);
/* cchost.kube-preflight/v1 */
json_object *kube_preflight_to_json(const KubePreflight *p);

/*
 * The part of kube_preflight() that reads the untrusted first answer (a cluster-info ConfigMap as
 * JSON): the token's JWS, the kubeconfig's one cluster and its CA. Leaves the verdict in *p (OK when
 * all of it is there); <0 only on errors. For the fuzzer.
 */
int kube_cluster_info_check(const char *body, size_t size, const KubeToken *t, KubePreflight *p);

/* The pin kubeadm computes: "sha256:" + lowercase hex of SHA-256 over the DER SubjectPublicKeyInfo. */
int kube_spki_pin(const void *der_cert, size_t size, char **ret);

/* ---- capacity model (issue 15 item 4) ---- */

#define KUBE_MIB (UINT64_C(1) << 20)
/* what a kata TEE RuntimeClass charges per pod (overhead.podFixed of kata-qemu-tdx/-snp) */
#define KUBE_TEE_POD_OVERHEAD_MEMORY (2048 * KUBE_MIB)
#define KUBE_TEE_POD_OVERHEAD_CPU_MILLI 1000U
/* the pod's own memory request the model assumes on top of the overhead */
#define KUBE_DEFAULT_POD_REQUEST_MEMORY (256 * KUBE_MIB)

/* The kubelet reservations for a node of mem_total bytes and cpus CPUs (the README shows the formula). */
typedef struct KubeReservations {
        uint64_t kube_reserved_memory;   /* bytes */
        uint64_t system_reserved_memory;
        uint64_t eviction_hard_memory;   /* memory.available */
        unsigned kube_reserved_cpu_milli;
        unsigned system_reserved_cpu_milli;
} KubeReservations;

void kube_reservations(uint64_t mem_total, unsigned cpus, KubeReservations *ret);

typedef enum KubeCapacityTerm {
        KUBE_CAPACITY_TERM_TEE,
        KUBE_CAPACITY_TERM_MEMORY,
        KUBE_CAPACITY_TERM_CPU,
        _KUBE_CAPACITY_TERM_MAX,
        _KUBE_CAPACITY_TERM_INVALID = -EINVAL,
} KubeCapacityTerm;

const char *kube_capacity_term_to_string(KubeCapacityTerm t);

typedef struct KubeCapacity {
        Tee tee;
        bool tee_known;          /* false: nothing said how many TEE guests can start (tee_slots 0) */
        uint64_t tee_slots;
        const char *tee_source;  /* "kvm_intel tdx", "misc.capacity tdx", "MSR 0x87", "kvm_amd sev_snp",
                                  * "misc.capacity sev_es", "CPUID 0x8000001f" */
        const char *tee_note;    /* why the count is what it is, or NULL */
        uint64_t mem_total;      /* MemTotal, bytes */
        KubeReservations reserved;
        uint64_t allocatable_memory; /* mem_total minus the three memory reservations */
        unsigned cpus;               /* online CPUs */
        unsigned allocatable_cpu_milli;
        uint64_t per_pod_memory;     /* overhead + default request */
        uint64_t slots[_KUBE_CAPACITY_TERM_MAX];
        uint64_t cvm_slots;          /* the least of slots[] */
        KubeCapacityTerm binding;    /* the term that gives cvm_slots (the first in order on a tie) */
        char *extended_resource;     /* tdx.intel.com/keys or sev-snp.amd.com/esids */
} KubeCapacity;

/*
 * The capacity model of this run's host: TEE slots (none while KVM has the TEE off, kvm_intel tdx /
 * kvm_amd sev_snp; else TDX: misc.capacity tdx, else MSR 0x87's private KeyIDs - 1; SNP:
 * misc.capacity sev_es, else CPUID 0x8000001F EDX - 1), memory (MemTotal from
 * /proc/meminfo, the kubelet reservations, allocatable) and CPUs (online), and the CVM slots =
 * min(TEE slots, allocatable / (2048 Mi + default pod request), allocatable CPU / 1 CPU). tee
 * (_TEE_INVALID: the configuration's, else the CPU vendor's) picks the TEE. Errors (-ENOENT,
 * -EBADMSG for meminfo or the CPU list, -EOPNOTSUPP for a host without SNP or TDX) come with the reason.
 */
int kube_capacity_compute(EngineRun *run, Tee tee, KubeCapacity *ret, char **ret_error);
void kube_capacity_done(KubeCapacity *c);
/* cchost.capacity/v1 */
json_object *kube_capacity_to_json(const KubeCapacity *c);

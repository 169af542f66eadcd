/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pccs.h"
#include "probe-util.h"
#include "tdx-host.h"

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *text = NULL, *error = NULL;
        int r, port, threads;

        r = hostfs_read_file(host_fs(c->host), QGS_CONF_PATH, 64 * 1024, &text, NULL);
        if (r == -ENOENT) {
                finding_set(f, FINDING_WARN, "/%s is missing: qgsd falls back to its built-in port", QGS_CONF_PATH);
                return;
        }
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot read /%s", QGS_CONF_PATH);
                return;
        }
        r = qgs_config_parse(text, &port, &threads, &error);
        if (r < 0) {
                finding_set(f, FINDING_FAIL, "/%s: %s", QGS_CONF_PATH, strempty(error));
                return;
        }
        finding_evidence_int(f, "port", port);
        finding_evidence_int(f, "number_threads", threads);
        if (threads == 0) {
                finding_set(f, FINDING_FAIL, "/%s: number_threads = 0, QGS would serve no requests", QGS_CONF_PATH);
                return;
        }
        if (port == 0)
                finding_set(f, FINDING_PASS, "QGS listens on the unix socket /var/run/tdx-qgs/qgs.socket (port = 0), %d threads",
                            threads);
        else
                finding_set(f, FINDING_PASS, "QGS listens on vsock port %d, %d threads", port, threads);
}

const Probe probe_tdx_qgs_config = {
        .id = "tdx.qgs.config",
        .component = "virt",
        .parent = "tdx.cpu.vendor",
        .tee = TEE_TDX,
        .reads = "the QGS configuration /etc/qgs.conf (port, number_threads)",
        .rule = "port 0-65535 (0: unix socket), number_threads 1-255; missing file: warn",
        .remedy = "Write /etc/qgs.conf with \"port = 4050\" and \"number_threads = 4\" (cchostctl certs import --tdx "
                  "writes it when missing) and restart qgsd; guests reach it at vsock CID 2 port 4050.",
        .run = run,
};

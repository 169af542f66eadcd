/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's run context: every input read once per run, backend reasons that belong to the op
 * that failed, host caches that a flush drops, and one engine driven through many cycles (and two
 * in two threads) giving the same answers every time without growing; a cycle is check, plan,
 * provision --dry-run, the compliance scan and the status of a LUKS2 image. The fixture roots are built
 * by tests/hostbuilder.py ($CCHOST_SOURCE_ROOT).
 */
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>

#include "action.h"
#include "engine.h"
#include "fde.h"
#include "harden.h"
#include "provision.h"
#include "strv.h"
#include "test-hooks.h"
#include "tests.h"

static char base[] = "/tmp/test-engine-XXXXXX";
static char snp_root[PATH_MAX], tdx_root[PATH_MAX], disk_image[PATH_MAX];

/* A small LUKS2 image (PBKDF2: the key is random) for the "disk status" step of each cycle. */
static void make_disk_image(void) {
        char key[PATH_MAX];
        pid_t pid;
        int status, fd;

        snprintf(disk_image, sizeof(disk_image), "%s/disk.img", base);
        snprintf(key, sizeof(key), "%s/disk.key", base);
        fd = open(disk_image, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_INT(ftruncate(fd, 32 * 1024 * 1024), 0);
        close(fd);
        fd = open(key, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_INT(write(fd, "0123456789abcdef0123456789abcdef", 32), 32);
        close(fd);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                ASSERT_TRUE(freopen("/dev/null", "w", stdout));
                execlp("cryptsetup", "cryptsetup", "luksFormat", "--batch-mode", "--type", "luks2", "--pbkdf",
                       "pbkdf2", "--pbkdf-force-iterations", "1000", "--key-file", key, disk_image, (char *) NULL);
                _exit(127);
        }
        ASSERT_INT(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void build_root(const char *spec, char *ret, size_t size) {
        const char *src = getenv("CCHOST_SOURCE_ROOT");
        char builder[PATH_MAX], hostfile[PATH_MAX];
        pid_t pid;
        int status;

        ASSERT_TRUE(src);
        snprintf(builder, sizeof(builder), "%s/tests/hostbuilder.py", src);
        snprintf(hostfile, sizeof(hostfile), "%s/tests/hosts/%s.yaml", src, spec);
        snprintf(ret, size, "%s/%s", base, spec);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                /* its progress lines are not the test's */
                ASSERT_TRUE(freopen("/dev/null", "w", stdout));
                execlp("python3", "python3", builder, hostfile, ret, (char *) NULL);
                _exit(127);
        }
        ASSERT_INT(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        /* a configuration file that is there (the default one has none): it is read, once */
        snprintf(hostfile, sizeof(hostfile), "%s/etc/cchost/cchost.yaml", ret);
        if (access(hostfile, F_OK) < 0) {
                FILE *f = fopen(hostfile, "we");

                ASSERT_TRUE(f);
                fputs("firmware:\n  late_load: false\n", f);
                ASSERT_INT(fclose(f), 0);
        }
}

typedef struct Count {
        const char *path;
        unsigned n;
} Count;

static void count_reads(const char *path, HostFsAccess access, void *userdata) {
        for (Count *c = userdata; c->path; c++)
                if (access == HOSTFS_ACCESS_FILE && streq(path, c->path))
                        c->n++;
}

/* One check reads cchost.yaml and the signed baseline once, not once per probe. */
TEST(test_inputs_read_once_per_check) {
        Count counts[] = {
                { "etc/cchost/cchost.yaml" },
                { "etc/cchost/baseline.yaml" },
                { "etc/cchost/baseline.yaml.sig" },
                { "etc/cchost/baseline-key.pem" },
                {},
        };
        const char *roots[] = { snp_root, tdx_root };

        for (size_t i = 0; i < ELEMENTSOF(roots); i++) {
                _cleanup_(host_freep) Host *h = NULL;
                _cleanup_(report_freep) Report *r = NULL;

                ASSERT_INT(host_new(&(HostOptions) { .root = roots[i] }, &h), 0);
                for (Count *c = counts; c->path; c++)
                        c->n = 0;
                hostfs_set_recorder(host_fs(h), count_reads, counts);
                ASSERT_INT(engine_check(h, _TEE_INVALID, &r), 0);
                for (Count *c = counts; c->path; c++) {
                        if (c->n != 1)
                                fprintf(stderr, "%s: %s read %u times\n", roots[i], c->path, c->n);
                        ASSERT_INT(c->n, 1);
                }
        }
}

/* ---- every register and device answer once per run ---- */

typedef struct Asked {
        char key[48];
        unsigned n;
} Asked;

static Asked answers[256];
static size_t n_asked;
static unsigned answers_changed;

static void ask(const char *format, ...) _printf_(1, 2);
static void ask(const char *format, ...) {
        char key[48];
        va_list ap;

        va_start(ap, format);
        vsnprintf(key, sizeof(key), format, ap);
        va_end(ap);
        for (size_t i = 0; i < n_asked; i++)
                if (streq(answers[i].key, key)) {
                        answers[i].n++;
                        return;
                }
        ASSERT_TRUE(n_asked < ELEMENTSOF(answers));
        snprintf(answers[n_asked].key, sizeof(answers[n_asked].key), "%s", key);
        answers[n_asked++].n = 1;
}

static unsigned asked_most(const char **ret_key) {
        unsigned most = 0;

        for (size_t i = 0; i < n_asked; i++)
                if (answers[i].n > most) {
                        most = answers[i].n;
                        *ret_key = answers[i].key;
                }
        return most;
}

static int counted_cpuid(Host *h, unsigned cpu, uint32_t leaf, uint32_t subleaf, uint32_t ret[4]) {
        ask("cpuid %u 0x%x/%x", cpu, leaf, subleaf);
        return backend_capture.cpuid(h, cpu, leaf, subleaf, ret);
}

static int counted_rdmsr(Host *h, unsigned cpu, uint32_t msr, uint64_t *ret) {
        ask("msr %u 0x%x", cpu, msr);
        return backend_capture.rdmsr(h, cpu, msr, ret);
}

static int counted_sev_status(Host *h, SevPlatformStatus *ret) {
        ask("sev_platform_status");
        return backend_capture.sev_platform_status(h, ret);
}

static int counted_snp_status(Host *h, SnpPlatformStatus *ret) {
        ask("snp_platform_status");
        return backend_capture.snp_platform_status(h, ret);
}

static int counted_id2(Host *h, uint8_t **ret, size_t *ret_size) {
        ask("sev_get_id2");
        return backend_capture.sev_get_id2(h, ret, ret_size);
}

static int counted_kvm(Host *h, int *ret) {
        ask("kvm_api_version");
        return backend_capture.kvm_api_version(h, ret);
}

static int counted_domcaps(Host *h, const char *uri, char **ret_xml) {
        return backend_capture.libvirt_domcaps(h, uri, ret_xml);
}

static int counted_qemu_help(Host *h, const char *emulator, char **ret) {
        return backend_capture.qemu_object_help(h, emulator, ret);
}

static int counted_module_reload(Host *h, const char *module) {
        answers_changed++;
        return 0;
}

static const HostBackendOps answer_counting_ops = {
        .name = "test",
        .cpuid = counted_cpuid,
        .rdmsr = counted_rdmsr,
        .sev_platform_status = counted_sev_status,
        .snp_platform_status = counted_snp_status,
        .sev_get_id2 = counted_id2,
        .kvm_api_version = counted_kvm,
        .libvirt_domcaps = counted_domcaps,
        .qemu_object_help = counted_qemu_help,
        .module_reload = counted_module_reload,
};

static void count_microcode_reads(const char *path, HostFsAccess access, void *userdata) {
        if (access == HOSTFS_ACCESS_FILE && strneq(path, "sys/devices/system/cpu/", 23) && strstr(path, "/microcode/version"))
                ask("%s", path);
}

/* A check asks the backend each register, each PSP/KVM ioctl and each CPU's microcode revision once. */
TEST(test_device_answers_once_per_check) {
        const char *roots[] = { snp_root, tdx_root };

        for (size_t i = 0; i < ELEMENTSOF(roots); i++) {
                _cleanup_(host_freep) Host *h = NULL;
                _cleanup_(engine_run_freep) EngineRun *run = NULL;
                _cleanup_(report_freep) Report *r1 = NULL, *r2 = NULL;
                const CpuIdentity *cpu;
                const char *key = NULL;
                unsigned most, microcode = 0;
                size_t n_identity;

                ASSERT_INT(host_new(&(HostOptions) { .root = roots[i] }, &h), 0);
                host_set_backend(h, &answer_counting_ops);
                hostfs_set_recorder(host_fs(h), count_microcode_reads, NULL);
                n_asked = 0;
                ASSERT_INT(host_cpu_identity(h, &cpu), 0);
                n_identity = n_asked;
                ASSERT_INT(engine_run_new(h, NULL, &run), 0);
                ASSERT_INT(engine_run_check(run, _TEE_INVALID, &r1), 0);
                most = asked_most(&key);
                if (most != 1)
                        fprintf(stderr, "%s: %s asked %u times in one check\n", roots[i], key, most);
                ASSERT_INT(most, 1);
                for (size_t k = 0; k < n_asked; k++)
                        microcode += strstr(answers[k].key, "microcode") != NULL;
                ASSERT_INT(microcode, 4); /* the fixtures have four CPUs: the test saw their reads */
                ASSERT_TRUE(n_asked > 8);

                /* a second check of the same run asks nothing again */
                ASSERT_INT(engine_run_check(run, _TEE_INVALID, &r2), 0);
                ASSERT_INT(asked_most(&key), 1);

                /* the host changed (a module reload): the next check asks everything again */
                ASSERT_INT(host_module_reload(h, "kvm"), 0);
                ASSERT_INT(answers_changed, (unsigned) i + 1);
                report_free(TAKE_PTR(r2));
                ASSERT_INT(engine_run_check(run, _TEE_INVALID, &r2), 0);
                for (size_t k = 0; k < n_asked; k++) {
                        /* the CPU identity is kept until host_flush(): what only it reads is not asked again */
                        if (k < n_identity && answers[k].n == 1)
                                continue;
                        if (answers[k].n != 2)
                                fprintf(stderr, "%s: %s asked %u times in two checks around a module reload\n",
                                        roots[i], answers[k].key, answers[k].n);
                        ASSERT_INT(answers[k].n, 2);
                }
        }
}

/* The live backend opens a device node once and keeps it until the run releases it or the host changes. */
TEST(test_device_node_opened_once) {
        _cleanup_(host_freep) Host *h = NULL;
        struct stat st1, st2;
        int fd, again;

        ASSERT_INT(host_new(&(HostOptions) { .root = "/" }, &h), 0);
        fd = host_open_device(h, "dev/null", O_RDONLY);
        ASSERT_TRUE(fd >= 0);
        ASSERT_INT(host_open_device(h, "dev/null", O_RDONLY), fd);
        ASSERT_INT(fstat(fd, &st1), 0);
        ASSERT_INT(stat("/dev/null", &st2), 0);
        ASSERT_TRUE(st1.st_rdev == st2.st_rdev);
        /* a failure is kept with its reason */
        ASSERT_INT(host_open_device(h, "dev/cchost-no-such-node", O_RDONLY), -ENOENT);
        ASSERT_STR(host_detail(h), "/dev/cchost-no-such-node does not exist");
        host_set_detail(h, "another op's reason");
        ASSERT_INT(host_open_device(h, "dev/cchost-no-such-node", O_RDONLY), -ENOENT);
        ASSERT_STR(host_detail(h), "/dev/cchost-no-such-node does not exist");
        /* released: closed, and opened again on the next use */
        host_release_devices(h);
        ASSERT_INT(fcntl(fd, F_GETFD), -1);
        again = host_open_device(h, "dev/null", O_RDONLY);
        ASSERT_TRUE(again >= 0);
        /* an op that changes the host closes it first (an open /dev/kvm would pin kvm_amd); the fake
         * backend's reload changes nothing on this machine */
        host_set_backend(h, &answer_counting_ops);
        ASSERT_INT(host_module_reload(h, "kvm"), 0);
        ASSERT_INT(fcntl(again, F_GETFD), -1);
}

/* ---- backend reasons ---- */

static int cpuid_fails_with_reason(Host *h, unsigned cpu, uint32_t leaf, uint32_t subleaf, uint32_t ret[4]) {
        host_set_detail(h, "the first op's reason");
        return -EIO;
}

static int rdmsr_fails_silently(Host *h, unsigned cpu, uint32_t msr, uint64_t *ret) {
        return -EPERM;
}

static int kvm_fails_with_reason(Host *h, int *ret) {
        host_set_detail(h, "the third op's reason");
        return -ENODEV;
}

static unsigned domcaps_asked;

static int domcaps_counted(Host *h, const char *uri, char **ret_xml) {
        return asprintf(ret_xml, "<domainCapabilities n='%u'/>", ++domcaps_asked) < 0 ? -ENOMEM : 0;
}

static int domcaps_fails(Host *h, const char *uri, char **ret_xml) {
        host_set_detail(h, "libvirt said no");
        return -ECONNREFUSED;
}

static const HostBackendOps failing_ops = {
        .name = "test",
        .cpuid = cpuid_fails_with_reason,
        .rdmsr = rdmsr_fails_silently,
        .kvm_api_version = kvm_fails_with_reason,
        .libvirt_domcaps = domcaps_fails,
};

/* A failing op is explained by its own reason, or by none: never by an earlier op's. */
TEST(test_reason_belongs_to_the_failing_op) {
        _cleanup_(host_freep) Host *h = NULL;
        const char *xml;
        uint32_t regs[4];
        uint64_t v;
        int api;

        ASSERT_INT(host_new(&(HostOptions) { .root = snp_root }, &h), 0);
        host_set_backend(h, &failing_ops);
        ASSERT_INT(host_cpuid(h, 0, 0, 0, regs), -EIO);
        ASSERT_STR(host_detail(h), "the first op's reason");
        ASSERT_INT(host_rdmsr(h, 0, 0x10, &v), -EPERM);
        ASSERT_TRUE(host_detail(h) == NULL);
        ASSERT_INT(host_kvm_api_version(h, &api), -ENODEV);
        ASSERT_STR(host_detail(h), "the third op's reason");
        /* a cached failure repeats its own reason, after another op failed with another */
        ASSERT_INT(host_libvirt_domcaps(h, &xml), -ECONNREFUSED);
        ASSERT_INT(host_cpuid(h, 0, 0, 0, regs), -EIO);
        ASSERT_INT(host_libvirt_domcaps(h, &xml), -ECONNREFUSED);
        ASSERT_STR(host_detail(h), "libvirt said no");
}

static const HostBackendOps counted_ops = {
        .name = "test",
        .cpuid = cpuid_fails_with_reason,
        .libvirt_domcaps = domcaps_counted,
};

/* libvirt is asked once until host_flush(); after it, again (provision's verify after a reload). */
TEST(test_flush_drops_the_caches) {
        _cleanup_(host_freep) Host *h = NULL;
        const char *xml;

        ASSERT_INT(host_new(&(HostOptions) { .root = snp_root }, &h), 0);
        host_set_backend(h, &counted_ops);
        domcaps_asked = 0;
        ASSERT_INT(host_libvirt_domcaps(h, &xml), 0);
        ASSERT_STR(xml, "<domainCapabilities n='1'/>");
        ASSERT_INT(host_libvirt_domcaps(h, &xml), 0);
        ASSERT_STR(xml, "<domainCapabilities n='1'/>");
        host_flush(h);
        ASSERT_INT(host_libvirt_domcaps(h, &xml), 0);
        ASSERT_STR(xml, "<domainCapabilities n='2'/>");
        ASSERT_INT(domcaps_asked, 2);
}

/* ---- the run context's memo and callbacks ---- */

static unsigned freed;

static void count_free(void *p) {
        freed++;
        free(p);
}

static bool cancel_now(void *userdata) {
        return ++*(unsigned *) userdata > 3;
}

TEST(test_run_memo_and_cancel) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(engine_run_freep) EngineRun *run = NULL;
        _cleanup_(report_freep) Report *r = NULL;
        unsigned asked = 0;

        ASSERT_INT(host_new(&(HostOptions) { .root = snp_root }, &h), 0);
        ASSERT_INT(engine_run_new(h, &(EngineRunOptions) { .cancelled = cancel_now, .userdata = &asked }, &run), 0);
        freed = 0;
        ASSERT_INT(engine_run_memo_put(run, "k", strdup("v"), count_free), 0);
        ASSERT_STR(engine_run_memo(run, "k"), "v");
        ASSERT_INT(engine_run_memo_put(run, "k", NULL, NULL), -EEXIST);
        engine_run_flush(run);
        ASSERT_INT(freed, 1);
        ASSERT_TRUE(engine_run_memo(run, "k") == NULL);
        ASSERT_INT(engine_run_check(run, _TEE_INVALID, &r), -ECANCELED);
        ASSERT_INT(asked, 4);
}

/* ---- cycles ---- */

static char *cycle(EngineRun *run) {
        _cleanup_(report_freep) Report *report = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *journal = NULL, *error = NULL, *text = NULL;
        Host *h = engine_run_host(run);
        const Config *config;
        Plan plan = {};
        size_t size = 0;
        FILE *out;
        char *s;

        /* check, plan (from the same run), then provision --dry-run (a run of its own), then the
         * compliance scan and disk status */
        ASSERT_INT(engine_run_check(run, _TEE_INVALID, &report), 0);
        ASSERT_INT(engine_run_config(run, &config, NULL), 0);
        ASSERT_INT(plan_build(run, config, report, NULL, &plan, &error), 0);
        o = json_object_new_object();
        ASSERT_TRUE(o);
        json_object_object_add(o, "report", report_to_json(report));
        json_object_object_add(o, "plan", plan_to_json(&plan));
        plan_done(&plan);
        out = open_memstream(&text, &size);
        ASSERT_TRUE(out);
        ASSERT_TRUE(provision(h, &(ProvisionOptions) { .tee = _TEE_INVALID, .dry_run = true }, out, &error) >= 0);
        ASSERT_INT(fclose(out), 0);
        json_object_object_add(o, "provision", json_object_new_string(text));
        {
                /* the compliance report of the hardened profile, and the LUKS2 status of a disk */
                _cleanup_(harden_scan_freep) HardenScan *scan = NULL;
                _cleanup_free_ char *scan_error = NULL;
                NodeIdentity node = {};
                json_object *disk = NULL;

                ASSERT_INT(harden_scan(h, NULL, &scan, &scan_error), 0);
                node_identity_read(h, &node);
                json_object_object_add(o, "compliance", compliance_to_json(scan, &node));
                node_identity_done(&node);
                ASSERT_INT(fde_status(disk_image, "disk.img", NULL, false, &disk), 0);
                json_object_object_add(o, "disk", disk);
        }
        s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        ASSERT_TRUE(s);
        return s;
}

static size_t heap_in_use(void) {
        struct mallinfo2 m = mallinfo2();

        return m.uordblks + m.hblkhd;
}

static unsigned cycles(void) {
        const char *s = getenv("CCHOST_TEST_ENGINE_CYCLES");

        if (s)
                return (unsigned) atoi(s);
#if defined(__SANITIZE_ADDRESS__)
        return 200; /* ASan is ~5 times slower; LeakSanitizer checks what mallinfo2() cannot there */
#else
        return 1000;
#endif
}

/* One engine, many cycles: the same answer every time, and no growth between cycle 10 and the last. */
TEST(test_many_cycles_same_results_no_growth) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(engine_run_freep) EngineRun *run = NULL;
        _cleanup_free_ char *first = NULL;
        size_t at10 = 0, end;
        unsigned n = cycles();

        ASSERT_INT(host_new(&(HostOptions) { .root = snp_root }, &h), 0);
        ASSERT_INT(engine_run_new(h, NULL, &run), 0);
        first = cycle(run);
        for (unsigned i = 2; i <= n; i++) {
                _cleanup_free_ char *s = cycle(run);

                if (!streq(s, first)) {
                        fprintf(stderr, "cycle %u differs from cycle 1:\n%s\n---\n%s\n", i, first, s);
                        ASSERT_TRUE(false);
                }
                if (i == 10)
                        at10 = heap_in_use();
                if (getenv("CCHOST_TEST_ENGINE_TRACE") && i % 50 == 0)
                        fprintf(stderr, "cycle %u: %zu\n", i, heap_in_use());
        }
        end = heap_in_use();
        fprintf(stderr, "%u cycles; heap in use after cycle 10: %zu, at the end: %zu\n", n, at10, end);
        if (n >= 10)
                ASSERT_TRUE(end <= at10 + 128 * 1024); /* freed chunks kept in the tcache count as in use */
}

typedef struct Worker {
        const char *root;
        unsigned n;
        char *expected;
        unsigned mismatches;
} Worker;

static void *worker(void *userdata) {
        Worker *w = userdata;
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(engine_run_freep) EngineRun *run = NULL;

        ASSERT_INT(host_new(&(HostOptions) { .root = w->root }, &h), 0);
        ASSERT_INT(engine_run_new(h, NULL, &run), 0);
        for (unsigned i = 0; i < w->n; i++) {
                _cleanup_free_ char *s = cycle(run);

                w->mismatches += !streq(s, w->expected);
        }
        return NULL;
}

static char *sequential(const char *root) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(engine_run_freep) EngineRun *run = NULL;

        ASSERT_INT(host_new(&(HostOptions) { .root = root }, &h), 0);
        ASSERT_INT(engine_run_new(h, NULL, &run), 0);
        return cycle(run);
}

/* Two engines on two roots in two threads give what each gives alone. */
TEST(test_two_engines_in_two_threads) {
        Worker w[2] = {
                { .root = snp_root, .n = 50 },
                { .root = tdx_root, .n = 50 },
        };
        pthread_t t[2];

        for (size_t i = 0; i < 2; i++)
                w[i].expected = sequential(w[i].root);
        ASSERT_TRUE(!streq(w[0].expected, w[1].expected));
        for (size_t i = 0; i < 2; i++)
                ASSERT_INT(pthread_create(&t[i], NULL, worker, &w[i]), 0);
        for (size_t i = 0; i < 2; i++)
                ASSERT_INT(pthread_join(t[i], NULL), 0);
        for (size_t i = 0; i < 2; i++) {
                if (w[i].mismatches)
                        fprintf(stderr, "%s: %u of %u threaded cycles differ from the sequential run\n", w[i].root,
                                w[i].mismatches, w[i].n);
                ASSERT_INT(w[i].mismatches, 0);
                free(w[i].expected);
        }
}

int main(int argc, char **argv) {
        /* one clock for every cycle: the reports carry "now" */
        static TestHooks hooks = { .now_pinned = true };
        int r;

        hooks.now = time(NULL);
        test_hooks = &hooks;
        tests_init(argc, argv);
        ASSERT_TRUE(mkdtemp(base));
        build_root("genoa-snp-certified", snp_root, sizeof(snp_root));
        build_root("spr-tdx-certified", tdx_root, sizeof(tdx_root));
        make_disk_image();
        RUN(test_inputs_read_once_per_check);
        RUN(test_device_answers_once_per_check);
        RUN(test_device_node_opened_once);
        RUN(test_reason_belongs_to_the_failing_op);
        RUN(test_flush_drops_the_caches);
        RUN(test_run_memo_and_cancel);
        RUN(test_many_cycles_same_results_no_growth);
        RUN(test_two_engines_in_two_threads);
        r = tests_summary();
        (void) tests_rm_rf(base);
        return r;
}

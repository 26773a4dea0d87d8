// SPDX-License-Identifier: GPL-2.0
/*
 * The gate, step 1 of Documentation/zxmem.rst: while enable_debugging_syscalls
 * is off every write answers ZX_ERR_NOT_SUPPORTED before anything else is
 * looked at, and reaches none of the code that copies; reads are not gated.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "area.h"

TEST_F(child, write_with_parameter_off_is_not_supported)
{
	size_t page = page_size();
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);
	set_debugging_syscalls(_metadata, 0);

	assert_call_refused(_metadata, self->dev, true, self->target.pidfd,
			    addr, page, ZX_ERR_NOT_SUPPORTED);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_F(child, write_with_parameter_off_is_not_supported_before_any_check)
{
	size_t page = page_size();
	uint8_t byte = 0;
	int64_t addr;
	int handles[3];
	unsigned int i;

	addr = target_region(_metadata, &self->target, false, page, SEED_OLD);
	handles[0] = closed_fd();
	handles[1] = -1;
	handles[2] = self->target.pidfd;	/* untraced: no right either */
	set_debugging_syscalls(_metadata, 0);

	for (i = 0; i < ARRAY_SIZE(handles); i++) {
		ASSERT_REFUSED(ZX_ERR_NOT_SUPPORTED,
			       raw_call(self->dev, true, handles[i], addr, NULL,
					1));
		ASSERT_REFUSED(ZX_ERR_NOT_SUPPORTED,
			       raw_call(self->dev, true, handles[i], addr,
					&byte, 0));
		ASSERT_REFUSED(ZX_ERR_NOT_SUPPORTED,
			       raw_call(self->dev, true, handles[i], addr,
					&byte, ZXMEM_MAX_TRANSFER + 1));
		ASSERT_REFUSED(ZX_ERR_NOT_SUPPORTED,
			       raw_call(self->dev, true, handles[i], 0, &byte,
					1));
	}
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

/*
 * Kprobes (tracefs kprobe events, in a trace instance of our own, for this
 * thread only) on what a write does once past the gate: take the target's
 * mm, fault in the caller's buffer, pin the target's pages.
 */
#define TRACEFS		"/sys/kernel/tracing"
#define GATE_INSTANCE	TRACEFS "/instances/zxmem_gate"

static const char *const gate_functions[] = {
	"get_task_mm", "fault_in_readable", "pin_user_pages_remote",
};

/*
 * fault_in_readable() is 5.16's; before, zxmem faults the buffer in with
 * an inline loop that no probe can see, after get_task_mm(), whose probe
 * then stands for it.  The others exist on every kernel zxmem builds for.
 */
#define GATE_FAULT_IN	1
static bool gate_absent[ARRAY_SIZE(gate_functions)];

/* Is the running kernel older than @major.@minor? */
static bool kernel_before(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma < major || (ma == major && mi < minor);
}

static int gate_event_write(const char *fn, const char *file,
			    const char *text)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/events/zxmem_gate/%s/%s",
		 GATE_INSTANCE, fn, file);
	return write_text(path, 0, text);
}

static bool gate_mounted_tracefs;

/* Remove the probes; unmount tracefs too if we mounted it (@unmount). */
static void gate_probes_remove(bool unmount)
{
	char line[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(gate_functions); i++)
		gate_event_write(gate_functions[i], "enable", "0");
	rmdir(GATE_INSTANCE);
	for (i = 0; i < ARRAY_SIZE(gate_functions); i++) {
		snprintf(line, sizeof(line), "-:zxmem_gate/%s\n",
			 gate_functions[i]);
		write_text(TRACEFS "/kprobe_events", O_APPEND, line);
	}
	if (unmount && gate_mounted_tracefs && !umount(TRACEFS))
		gate_mounted_tracefs = false;
}

/*
 * Make the probes fire for this thread.  Returns 0, 1 if the kernel has no
 * kprobe events (a reason to skip), or -1 with @step naming what failed.
 */
static int gate_probes_add(const char **step)
{
	char line[128];
	unsigned int i;

	if (access(TRACEFS "/kprobe_events", F_OK) &&
	    !mount("tracefs", TRACEFS, "tracefs", 0, NULL))
		gate_mounted_tracefs = true;
	if (access(TRACEFS "/kprobe_events", F_OK))
		return 1;
	gate_probes_remove(false);	/* what an aborted run left */
	for (i = 0; i < ARRAY_SIZE(gate_functions); i++) {
		*step = gate_functions[i];
		snprintf(line, sizeof(line), "p:zxmem_gate/%s %s\n",
			 gate_functions[i], gate_functions[i]);
		gate_absent[i] = false;
		if (!write_text(TRACEFS "/kprobe_events", O_APPEND, line))
			continue;
		if (i != GATE_FAULT_IN || errno != ENOENT ||
		    !kernel_before(5, 16))
			return -1;
		gate_absent[i] = true;
	}
	*step = GATE_INSTANCE;
	if (mkdir(GATE_INSTANCE, 0700) && errno != EEXIST)
		return -1;
	snprintf(line, sizeof(line), "common_pid == %d", gettid());
	for (i = 0; i < ARRAY_SIZE(gate_functions); i++) {
		*step = gate_functions[i];
		if (gate_absent[i])
			continue;
		if (gate_event_write(gate_functions[i], "filter", line) ||
		    gate_event_write(gate_functions[i], "enable", "1"))
			return -1;
	}
	*step = GATE_INSTANCE "/trace";
	return write_text(GATE_INSTANCE "/trace", O_TRUNC, "");
}

/* Hits of each of gate_functions[] since the last call; -1 on error. */
static int gate_hits(int64_t *hits)
{
	char line[512], event[64];
	unsigned int i;
	FILE *trace;

	for (i = 0; i < ARRAY_SIZE(gate_functions); i++)
		hits[i] = 0;
	trace = fopen(GATE_INSTANCE "/trace", "re");
	if (!trace)
		return -1;
	while (fgets(line, sizeof(line), trace)) {
		if (line[0] == '#')
			continue;
		for (i = 0; i < ARRAY_SIZE(gate_functions); i++) {
			snprintf(event, sizeof(event), " %s: (",
				 gate_functions[i]);
			hits[i] += !!strstr(line, event);
		}
	}
	fclose(trace);
	return write_text(GATE_INSTANCE "/trace", O_TRUNC, "");
}

/* Two writes, of plain and of executable memory; their raw answers. */
static void write_both(int dev, int pidfd, const int64_t *addr, size_t len,
		       struct transfer *out)
{
	uint8_t buf[4096];
	unsigned int i;

	fill_pattern(buf, sizeof(buf), SEED_NEW);
	for (i = 0; i < 2; i++)
		out[i] = raw_call(dev, true, pidfd, addr[i], buf, len);
}

TEST_F(child, write_with_parameter_off_reaches_no_copy_function)
{
	int64_t off_hits[ARRAY_SIZE(gate_functions)];
	int64_t on_hits[ARRAY_SIZE(gate_functions)];
	struct transfer off[2], on[2];
	size_t page = page_size();
	const char *step = "";
	int64_t addr[2];
	int probes, err;
	unsigned int i;

	ASSERT_GE(4096, (int)page);
	ASSERT_EQ(0, target_trace(&self->target));
	/* Pinned pages, of plain and of executable memory. */
	addr[0] = target_map_anon(&self->target, page, SEED_OLD);
	addr[1] = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr[0]);
	ASSERT_LT(0, addr[1]);
	ASSERT_EQ(0, target_protect(&self->target, addr[1], page,
				    PROT_READ | PROT_EXEC));

	/* No ASSERT between adding the probes and removing them. */
	probes = gate_probes_add(&step);
	if (probes > 0) {
		gate_probes_remove(true);
		SKIP(return, "no kprobe events in %s (CONFIG_KPROBE_EVENTS)",
		     TRACEFS);
	}
	if (!probes) {
		step = ZXMEM_PARAM_PATH;
		probes = zxmem_param_set(0);
	}
	if (!probes)
		write_both(self->dev, self->target.pidfd, addr, page, off);
	if (!probes) {
		step = "reading the trace";
		probes = gate_hits(off_hits);
	}
	if (!probes) {
		step = ZXMEM_PARAM_PATH;
		probes = zxmem_param_set(1);
	}
	if (!probes)
		write_both(self->dev, self->target.pidfd, addr, page, on);
	if (!probes) {
		step = "reading the trace";
		probes = gate_hits(on_hits);
	}
	err = probes ? errno : 0;
	gate_probes_remove(true);
	ASSERT_EQ(0, probes) {
		TH_LOG("%s: %s", step, strerror(err));
	}

	for (i = 0; i < 2; i++) {
		ASSERT_REFUSED(ZX_ERR_NOT_SUPPORTED, off[i]);
		ASSERT_ANSWERED(on[i]);
		ASSERT_STATUS(ZX_OK, on[i].status);
	}
	for (i = 0; i < ARRAY_SIZE(gate_functions); i++) {
		if (gate_absent[i]) {
			TH_LOG("%s: not in this kernel", gate_functions[i]);
			continue;
		}
		/* The probes see these calls once writes are on ... */
		EXPECT_LE(1, on_hits[i]) {
			TH_LOG("%s: no hit with the parameter on",
			       gate_functions[i]);
		}
		/* ... and no write got that far while it was off. */
		EXPECT_EQ(0, off_hits[i]) {
			TH_LOG("%s: reached with the parameter off",
			       gate_functions[i]);
		}
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, target_mismatches(&self->target, addr[i], page,
					       SEED_NEW));
}

TEST_F(child, read_with_parameter_off_succeeds)
{
	size_t page = page_size();
	struct transfer r;
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);
	set_debugging_syscalls(_metadata, 0);

	r = read_pattern(_metadata, self->dev, self->target.pidfd, addr, page,
			 SEED_OLD);
	ASSERT_COPIED(page, r);
	ASSERT_EQ(0, r.mismatches);
}

TEST_F(child, write_succeeds_once_parameter_is_back_on)
{
	size_t page = page_size();
	struct transfer w;
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);

	set_debugging_syscalls(_metadata, 0);
	assert_call_refused(_metadata, self->dev, true, self->target.pidfd,
			    addr, page, ZX_ERR_NOT_SUPPORTED);
	set_debugging_syscalls(_metadata, 1);
	w = write_pattern(_metadata, self->dev, self->target.pidfd, addr, page,
			  SEED_NEW);
	ASSERT_COPIED(page, w);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_NEW));
}

TEST_HARNESS_MAIN

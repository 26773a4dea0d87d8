// SPDX-License-Identifier: GPL-2.0
/*
 * The trace events of Documentation/zxmem.rst, "Trace events": each
 * request the module judges leaves exactly one record, zxmem:zxmem_write
 * or zxmem:zxmem_read, whatever it answered, with the caller's tgid and
 * tid, the target's tgid (0 if the handle named none), the handle, vaddr,
 * size, the segment count, the status and actual (a batched call's one
 * record: its count, first vaddr, valid sizes and bytes moved, summed).
 * A call whose request cannot be read, or an unknown command, leaves
 * none: it reaches no process.  Read through tracefs, in a trace instance
 * of our own, filtered to the calling thread.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZXMEM_STATUSES
#include "area.h"

#define TRACEFS		"/sys/kernel/tracing"
#define INSTANCE	TRACEFS "/instances/zxmem_trace_test"
#define MAX_RECORDS	8

static const char *const events[] = { "zxmem_write", "zxmem_read" };

/* One record, as the event's format prints it. */
struct record {
	bool write;
	int caller_tgid, caller_tid, target_tgid;
	unsigned int handle, segments;
	uint64_t vaddr, size, actual;
	char status[32];
};

static int event_write(const char *event, const char *file, const char *text)
{
	char path[160];

	snprintf(path, sizeof(path), INSTANCE "/events/zxmem/%s/%s", event,
		 file);
	return write_text(path, 0, text);
}

/*
 * Enabling an event live-patches the kernel's text (its static key), and
 * so does the scheduler's tracepoints that command-name recording
 * registers with it: TCG guests have been seen to hang there (an IPI
 * never answered, a soft lockup) and to crash (a stray int3), the more
 * often the more the host is loaded.  So the whole run patches twice:
 * before its first test, KEEPER enables both events for good (its filter
 * matches no call: the idle task makes none) with command names off (a
 * global option), and after its last test it undoes both.  Each test's
 * own instance then turns the events on and off without patching.
 */
#define KEEPER		TRACEFS "/instances/zxmem_trace_test_keeper"

static pid_t keeper_pid;
/* The global record-cmd option as it was ("" if unknown), to restore. */
static char record_cmd[8];

static int keeper_write(const char *event, const char *file, const char *text)
{
	char path[160];

	snprintf(path, sizeof(path), KEEPER "/events/zxmem/%s/%s", event, file);
	return write_text(path, 0, text);
}

__attribute__((constructor)) static void keeper_start(void)
{
	unsigned int i;

	if (access(TRACEFS "/instances", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	if (access(TRACEFS "/events/zxmem/zxmem_write/format", F_OK) ||
	    (mkdir(KEEPER, 0700) && errno != EEXIST))
		return;
	if (read_text(TRACEFS "/options/record-cmd", record_cmd,
		      sizeof(record_cmd)))
		record_cmd[0] = 0;
	if (record_cmd[0])
		write_text(TRACEFS "/options/record-cmd", 0, "0");
	for (i = 0; i < ARRAY_SIZE(events); i++) {
		keeper_write(events[i], "filter", "caller_tid == 0");
		keeper_write(events[i], "enable", "1");
	}
	keeper_pid = getpid();
}

/* The tests run in children, which leave with _exit(): only we get here. */
__attribute__((destructor)) static void keeper_stop(void)
{
	unsigned int i;

	if (!keeper_pid || getpid() != keeper_pid)
		return;
	for (i = 0; i < ARRAY_SIZE(events); i++)
		keeper_write(events[i], "enable", "0");
	rmdir(KEEPER);
	/* After the events are off: turning it on would record for them. */
	if (record_cmd[0])
		write_text(TRACEFS "/options/record-cmd", 0, record_cmd);
}

/*
 * Both events on in our own instance, for this thread's calls only.
 * Returns false after SKIP() if the kernel has no tracefs.
 */
static bool trace_start(struct __test_metadata *_metadata)
{
	char filter[64];
	unsigned int i;

	if (access(TRACEFS "/instances", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	if (access(TRACEFS "/instances", F_OK))
		SKIP(return false, "no tracefs at " TRACEFS);
	ASSERT_EQ(0, access(TRACEFS "/events/zxmem/zxmem_write/format", F_OK)) {
		TH_LOG("zxmem.ko defines no zxmem:zxmem_write event");
	}
	/* Keeping them on (keeper_start()): no text is patched from here. */
	ASSERT_NE(0, keeper_pid) {
		TH_LOG("the events could not be kept on in " KEEPER);
	}
	if (mkdir(INSTANCE, 0700))
		ASSERT_EQ(EEXIST, errno);
	snprintf(filter, sizeof(filter), "caller_tid == %d", gettid());
	for (i = 0; i < ARRAY_SIZE(events); i++) {
		ASSERT_EQ(0, event_write(events[i], "filter", filter));
		ASSERT_EQ(0, event_write(events[i], "enable", "1"));
	}
	ASSERT_EQ(0, write_text(INSTANCE "/trace", O_TRUNC, ""));
	return true;
}

static void trace_stop(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(events); i++)
		event_write(events[i], "enable", "0");
	rmdir(INSTANCE);
}

/* Parse the records since the last call into @out; their number, or -1. */
static int trace_take(struct record *out, int max)
{
	char line[512], *at;
	int n = 0, fields;
	FILE *trace;

	trace = fopen(INSTANCE "/trace", "re");
	if (!trace)
		return -1;
	while (fgets(line, sizeof(line), trace)) {
		struct record r = { 0 };

		if (line[0] == '#')
			continue;
		at = strstr(line, " zxmem_write: ");
		r.write = at;
		if (!at)
			at = strstr(line, " zxmem_read: ");
		if (!at || n == max) {
			n = -1;
			break;
		}
		at = strchr(at + 1, ' ');
		fields = sscanf(at, " caller=%d/%d target=%d handle=%u vaddr=%" SCNx64 " size=%" SCNu64 " segments=%u status=%31s actual=%" SCNu64,
				&r.caller_tgid, &r.caller_tid, &r.target_tgid,
				&r.handle, &r.vaddr, &r.size, &r.segments,
				r.status, &r.actual);
		if (fields != 9) {
			n = -1;
			break;
		}
		out[n++] = r;
	}
	fclose(trace);
	if (write_text(INSTANCE "/trace", O_TRUNC, ""))
		return -1;
	return n;
}

/*
 * Issue @request as a write or a read and check that it left one record
 * that says what was asked and what was answered.
 */
static void assert_one_record(struct __test_metadata *_metadata, int dev,
			      bool write, const struct zxmem_io *request,
			      int target_tgid, zx_status_t expected)
{
	struct zxmem_io io = *request;
	struct record r[MAX_RECORDS];
	int n;

	ASSERT_EQ(0, ioctl(dev, write ? ZXMEM_IOC_WRITE_MEMORY :
				  ZXMEM_IOC_READ_MEMORY, &io));
	ASSERT_STATUS(expected, io.status);
	n = trace_take(r, MAX_RECORDS);
	ASSERT_EQ(1, n) {
		TH_LOG("a %s left %d records", write ? "write" : "read", n);
	}
	EXPECT_EQ(write, r[0].write);
	EXPECT_EQ(getpid(), r[0].caller_tgid);
	EXPECT_EQ(gettid(), r[0].caller_tid);
	EXPECT_EQ(target_tgid, r[0].target_tgid);
	EXPECT_EQ(request->handle, r[0].handle);
	EXPECT_EQ(request->vaddr, r[0].vaddr);
	EXPECT_EQ(request->buffer_size, r[0].size);
	EXPECT_EQ(1u, r[0].segments);
	EXPECT_STREQ(zx_status_get_string(expected), r[0].status);
	EXPECT_EQ(expected == ZX_OK ? io.actual : 0, r[0].actual);
}

/*
 * Every status, each provoked by the step that gives it: one record per
 * call, the write's and the read's, with the target's tgid once the
 * handle named it (the gate comes first: a write it refuses names none).
 */
TEST_F(status, each_call_leaves_one_record_of_what_it_asked_and_got)
{
	zx_status_t expected = variant->expected;
	pid_t pid = self->target.pid;
	struct provoked call;

	if (!trace_start(_metadata))
		return;
	provoke_status(_metadata, &self->target, expected, &call);
	assert_one_record(_metadata, self->dev, true, &call.request,
			  call.named && expected != ZX_ERR_NOT_SUPPORTED ?
			  pid : 0, expected);
	assert_one_record(_metadata, self->dev, false, &call.request,
			  call.named ? pid : 0, call.read_expected);
	trace_stop();
}

/* A request the module cannot read, or a command it does not know. */
TEST_F(child, calls_that_reach_no_request_leave_no_record)
{
	struct record r[MAX_RECORDS];
	void *nowhere;

	if (!trace_start(_metadata))
		return;
	nowhere = unmapped_buffer(_metadata);
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->dev, ZXMEM_IOC_WRITE_MEMORY, nowhere));
	ASSERT_EQ(EFAULT, errno);
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->dev, _IOWR(ZXMEM_IOC_MAGIC, 0x02,
					      struct zxmem_io), nowhere));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(0, trace_take(r, MAX_RECORDS));
	trace_stop();
}

/*
 * A write whose answer cannot be written back fails with EFAULT after its
 * bytes moved ("the status is lost, not the effect"): its record says
 * what the target saw, ZX_OK and every byte, which the caller never
 * learnt.  An audit trail that dropped it would hide a forced write.
 */
TEST_F(child, a_write_whose_answer_is_lost_is_still_recorded)
{
	size_t page = page_size();
	struct record r[MAX_RECORDS];
	struct zxmem_io *io;
	uint8_t *src;
	int64_t addr;

	if (!trace_start(_metadata))
		return;
	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);
	src = pattern_buffer(_metadata, page, SEED_NEW);
	io = map_buffer(_metadata, page);
	*io = raw_request(self->target.pidfd, addr, src, page);
	ASSERT_EQ(0, mprotect(io, page, PROT_READ));
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->dev, ZXMEM_IOC_WRITE_MEMORY, io));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_NEW));
	ASSERT_EQ(1, trace_take(r, MAX_RECORDS));
	EXPECT_TRUE(r[0].write);
	EXPECT_EQ(self->target.pid, r[0].target_tgid);
	EXPECT_EQ((uint64_t)addr, r[0].vaddr);
	EXPECT_STREQ("ZX_OK", r[0].status);
	EXPECT_EQ(page, r[0].actual);
	trace_stop();
}

/* Off, the events record nothing; on again, the next call is recorded. */
TEST_F(child, disabled_events_record_nothing)
{
	struct record r[MAX_RECORDS];
	size_t page = page_size();
	struct transfer done;
	unsigned int i;
	int64_t addr;

	if (!trace_start(_metadata))
		return;
	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);
	for (i = 0; i < ARRAY_SIZE(events); i++)
		ASSERT_EQ(0, event_write(events[i], "enable", "0"));
	done = write_pattern(_metadata, self->dev, self->target.pidfd, addr,
			     page, SEED_NEW);
	ASSERT_COPIED(page, done);
	ASSERT_EQ(0, trace_take(r, MAX_RECORDS));

	ASSERT_EQ(0, event_write("zxmem_read", "enable", "1"));
	done = read_pattern(_metadata, self->dev, self->target.pidfd, addr,
			    page, SEED_NEW);
	ASSERT_COPIED(page, done);
	ASSERT_EQ(1, trace_take(r, MAX_RECORDS));
	ASSERT_FALSE(r[0].write);
	trace_stop();
}

/*
 * A batched call leaves one record, whatever its segments answered: the
 * segment count, the first segment's vaddr, the valid segments' sizes
 * added up and the bytes they all moved.  One refused as a whole says
 * why, with the target once its handle named it; one whose array cannot
 * be read reaches no request and leaves none.  The write's and the read's.
 */
static void assert_batched_records(struct __test_metadata *_metadata,
				   struct _test_data_child *self,
				   int64_t addr, bool write)
{
	unsigned long cmd = write ? ZXMEM_IOC_WRITE_MEMORY_VEC :
				    ZXMEM_IOC_READ_MEMORY_VEC;
	size_t page = page_size();
	struct zxmem_segment segs[3];
	struct record r[MAX_RECORDS];
	uint8_t *buf = write ? pattern_buffer(_metadata, 2 * page, SEED_NEW) :
			       map_buffer(_metadata, 2 * page);
	struct zxmem_vec vec = {
		.segments = (uintptr_t)segs,
		.count = 3,
		.handle = self->target.pidfd,
	};

	seg_set(&segs[0], addr + page, buf, page);
	/* Its own fields refuse it: its size counts for nothing. */
	seg_set(&segs[1], addr, buf, page);
	segs[1].reserved = 1;
	seg_set(&segs[2], addr, buf + page, page / 2);
	ASSERT_EQ(0, ioctl(self->dev, cmd, &vec));
	ASSERT_STATUS(ZX_OK, vec.status);
	ASSERT_EQ(3u, vec.done);
	ASSERT_STATUS(ZX_ERR_INVALID_ARGS, segs[1].status);
	ASSERT_EQ(1, trace_take(r, MAX_RECORDS));
	EXPECT_EQ(write, r[0].write);
	EXPECT_EQ(getpid(), r[0].caller_tgid);
	EXPECT_EQ(gettid(), r[0].caller_tid);
	EXPECT_EQ(self->target.pid, r[0].target_tgid);
	EXPECT_EQ((unsigned int)self->target.pidfd, r[0].handle);
	EXPECT_EQ((uint64_t)addr + page, r[0].vaddr);
	EXPECT_EQ(page + page / 2, r[0].size);
	EXPECT_EQ(3u, r[0].segments);
	EXPECT_STREQ("ZX_OK", r[0].status);
	EXPECT_EQ(page + page / 2, r[0].actual);
	EXPECT_EQ(vec.actual, r[0].actual);

	/* Refused as a whole by its handle: no target, nothing moved. */
	vec.handle = closed_fd();
	ASSERT_EQ(0, ioctl(self->dev, cmd, &vec));
	ASSERT_STATUS(ZX_ERR_BAD_HANDLE, vec.status);
	ASSERT_EQ(1, trace_take(r, MAX_RECORDS));
	EXPECT_EQ(write, r[0].write);
	EXPECT_EQ(0, r[0].target_tgid);
	EXPECT_EQ(3u, r[0].segments);
	EXPECT_STREQ("ZX_ERR_BAD_HANDLE", r[0].status);
	EXPECT_EQ(0u, r[0].actual);

	/* Its header refuses it before the array is read. */
	vec.handle = self->target.pidfd;
	vec.count = 0;
	ASSERT_EQ(0, ioctl(self->dev, cmd, &vec));
	ASSERT_STATUS(ZX_ERR_INVALID_ARGS, vec.status);
	ASSERT_EQ(1, trace_take(r, MAX_RECORDS));
	EXPECT_EQ(write, r[0].write);
	EXPECT_EQ(0u, r[0].segments);
	EXPECT_EQ(0u, r[0].vaddr);
	EXPECT_STREQ("ZX_ERR_INVALID_ARGS", r[0].status);

	/* An array it cannot read: EFAULT, and no request, no record. */
	vec.count = 3;
	vec.segments = (uintptr_t)unmapped_buffer(_metadata);
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->dev, cmd, &vec));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, trace_take(r, MAX_RECORDS));
}

TEST_F(child, a_batched_call_leaves_one_record_for_all_its_segments)
{
	int64_t addr;

	if (!trace_start(_metadata))
		return;
	addr = target_region(_metadata, &self->target, true, 2 * page_size(),
			     SEED_OLD);
	assert_batched_records(_metadata, self, addr, true);
	assert_batched_records(_metadata, self, addr, false);
	trace_stop();
}

TEST_HARNESS_MAIN

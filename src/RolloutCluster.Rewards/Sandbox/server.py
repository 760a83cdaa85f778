# RolloutCluster sandbox worker: runs inside bubblewrap (no network, read-only system, seccomp,
# cgroup limits) and executes one program per request in a forked child, so each run costs a fork
# instead of an interpreter start. Protocol: one JSON object per line on the original stdin
# ({"code", "cpu_s", "wall_s", "fsize", "as_bytes", "output_bytes"}) and one JSON line back.
import ctypes, io, json, os, resource, select, shutil, signal, sys, time, traceback

libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(36, 1, 0, 0, 0)   # PR_SET_CHILD_SUBREAPER: orphaned descendants come back to us to be killed
libc.prctl(4, 0, 0, 0, 0)    # PR_SET_DUMPABLE 0: programs cannot open /proc/<worker>/fd to forge replies

proto_in = os.fdopen(os.dup(0), "rb")
proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
for fd in (proto_in.fileno(), proto_out.fileno()):
    os.set_inheritable(fd, False)
null = os.open("/dev/null", os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(null, fd)
RUN = "/tmp/run"


def child(req, out_w, err_w):
    try:
        os.setsid()
        proto_in.close()
        proto_out.close()
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.chdir(RUN)
        cpu = int(req["cpu_s"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (req["fsize"], req["fsize"]))
        resource.setrlimit(resource.RLIMIT_AS, (req["as_bytes"], req["as_bytes"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), write_through=True)
        sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", buffering=0), write_through=True)
        sys.argv = ["program.py"]
        code = compile(req["code"], "program.py", "exec")
        exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
        status = 0
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        try:
            traceback.print_exc()
        except BaseException:
            pass
        status = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(status & 0xFF)


def kill_everything_else():
    me = os.getpid()
    for _ in range(50):
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not others:
            return
        time.sleep(0.002)


def run(req):
    shutil.rmtree(RUN, ignore_errors=True)
    os.mkdir(RUN)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(err_r)
        child(req, out_w, err_w)
    os.close(out_w)
    os.close(err_w)
    deadline = start + float(req["wall_s"])
    cap = int(req["output_bytes"])
    buffers = {out_r: bytearray(), err_r: bytearray()}
    open_fds = [out_r, err_r]
    verdict = None
    status = None
    exited_at = None
    while True:
        now = time.monotonic()
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status, exited_at = st, now
        # After the program exits, its pipes are drained briefly: a descendant that kept them open
        # (a daemon) must not hold the run until the deadline.
        if exited_at is not None and (not open_fds or now - exited_at > 0.05):
            break
        if now >= deadline:
            verdict = "timeout"
            break
        if not open_fds:
            time.sleep(0.005)
            continue
        ready, _, _ = select.select(open_fds, [], [], min(deadline - now, 0.01 if status is not None else 0.05))
        for fd in ready:
            data = os.read(fd, 1 << 16)
            if not data:
                open_fds.remove(fd)
                continue
            buffers[fd] += data
            if len(buffers[out_r]) + len(buffers[err_r]) > cap:
                verdict = "output_limit"
        if verdict:
            break
    if status is None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        _, status = os.waitpid(pid, 0)
    elapsed = time.monotonic() - start
    kill_everything_else()
    for fd in (out_r, err_r):
        os.close(fd)
    shutil.rmtree(RUN, ignore_errors=True)
    if verdict is None:
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            verdict = "cpu_limit" if sig in (signal.SIGXCPU, signal.SIGKILL) and elapsed >= float(req["cpu_s"]) * 0.9 else "signal"
        else:
            verdict = "exited"
    return {
        "verdict": verdict,
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
        "stdout": bytes(buffers[out_r][:cap]).decode("utf-8", "replace"),
        "stderr": bytes(buffers[err_r][:cap]).decode("utf-8", "replace"),
        "ms": round(elapsed * 1000, 3),
    }


proto_out.write(b'{"ready": true}\n')
while True:
    line = proto_in.readline()
    if not line:
        break
    try:
        reply = run(json.loads(line))
    except Exception as e:
        reply = {"verdict": "worker_error", "exit_code": -1, "signal": 0, "stdout": "", "stderr": repr(e), "ms": 0}
    proto_out.write(json.dumps(reply).encode() + b"\n")

package perf

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SyscallCounts attaches strace to pid (every thread), runs fire, detaches
// and returns how many of the I/O syscalls the process made, by name.
// fire returns the number of requests it sent, so counts can be divided.
func SyscallCounts(ctx context.Context, pid int, fire func() (int, error)) (counts map[string]int, requests int, err error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "strace", "-f", "-qq", "-c", "-e", "trace=write,writev,sendto,sendmsg,read,readv,recvfrom,recvmsg", "-p", strconv.Itoa(pid))
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("strace: %w", err)
	}
	time.Sleep(500 * time.Millisecond) // attach to every thread
	requests, ferr := fire()
	time.Sleep(200 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGINT)
	_ = cmd.Wait()
	if ferr != nil {
		return nil, 0, ferr
	}
	counts, err = ParseStraceSummary(stderr.String())
	return counts, requests, err
}

// ParseStraceSummary reads the table strace -c prints.
func ParseStraceSummary(out string) (map[string]int, error) {
	counts := map[string]int{}
	inTable := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && f[0] == "%" && strings.Contains(line, "syscall"):
			inTable = true
		case !inTable || len(f) < 5 || strings.HasPrefix(f[0], "---"):
		case f[len(f)-1] == "total":
		default:
			n, err := strconv.Atoi(f[3])
			if err != nil {
				return nil, fmt.Errorf("strace summary: %q: %w", line, err)
			}
			counts[f[len(f)-1]] = n
		}
	}
	if !inTable {
		return nil, fmt.Errorf("no strace -c summary in %q", out)
	}
	return counts, nil
}

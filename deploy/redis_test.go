package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kong-authkit/kong-authkit/internal/kongwire"
)

// The optional Redis of policy: redis, in compose.yaml and in
// kubernetes/redis.yaml, must match README's "Running several gateway
// nodes": the same least-privilege ACL (only the key prefix, only the
// commands the plugins use), the password reaching the plugin processes
// through password_env and nginx_main_env, and a Redis address the
// plugins can reach.

// readmeACL returns the permissions of README's `user authkit on >PW …`
// line (everything after the password).
func readmeACL(t *testing.T, root string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^user authkit on >\S+ (.*)$`).FindAllStringSubmatch(string(b), -1)
	if len(m) != 1 {
		t.Fatalf("README must hold exactly one `user authkit on >… …` line, found %d", len(m))
	}
	return strings.Fields(m[0][1])
}

// aclProblem compares an ACL user definition (words after "user") with
// README's: user authkit, on, one password, the same permissions.
func aclProblem(where string, words []string, perms []string) (password, problem string) {
	if len(words) < 3 || words[0] != "authkit" || words[1] != "on" || !strings.HasPrefix(words[2], ">") {
		return "", fmt.Sprintf("%s: no `authkit on >password` user: %q", where, strings.Join(words, " "))
	}
	if got := words[3:]; !slices.Equal(got, perms) {
		return "", fmt.Sprintf("%s: the authkit user's permissions %q differ from README's %q", where, strings.Join(got, " "), strings.Join(perms, " "))
	}
	return words[2][1:], ""
}

func composeRedisProblems(path string, perms []string) []string {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	data, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	var doc struct {
		Services map[string]struct {
			composeService
			Profiles []string `json:"profiles"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []string{err.Error()}
	}
	redis, ok := doc.Services["redis"]
	if !ok {
		return []string{"no redis service"}
	}
	if !slices.Contains(redis.Profiles, "redis") {
		add("redis: not in the \"redis\" profile (it is optional)")
	}
	if !imageTagRE.MatchString(redis.Image) || strings.HasSuffix(redis.Image, ":latest") || !strings.HasPrefix(redis.Image, "redis:") {
		add("redis: image %q, want a pinned redis:<version>", redis.Image)
	}
	if len(redis.Ports) > 0 {
		add("redis: publishes ports %v; only the gateway needs it", redis.Ports)
	}
	cmd, _ := redis.Command.([]any)
	var words []string
	for _, w := range cmd {
		words = append(words, fmt.Sprint(w))
	}
	var users [][]string
	for i, w := range words {
		if w != "--user" {
			continue
		}
		j := i + 1
		for j < len(words) && !strings.HasPrefix(words[j], "--") {
			j++
		}
		users = append(users, words[i+1:j])
	}
	password := ""
	found := false
	for _, u := range users {
		switch {
		case len(u) > 0 && u[0] == "default":
			if !slices.Equal(u, []string{"default", "off"}) {
				add("redis: the default user is %q, want off", strings.Join(u, " "))
			}
		case len(u) > 0 && u[0] == "authkit":
			pw, p := aclProblem("redis", u, perms)
			if p != "" {
				add("%s", p)
			}
			password, found = pw, true
		}
	}
	if !slices.ContainsFunc(users, func(u []string) bool { return len(u) > 0 && u[0] == "default" }) {
		add("redis: the default user is not turned off (--user default off)")
	}
	if !found {
		add("redis: no --user authkit … in its command")
	}
	env := doc.Services["kong"].env()
	if found && env["AUTHKIT_REDIS_PASSWORD"] != password {
		add("kong: AUTHKIT_REDIS_PASSWORD %q is not the redis authkit user's password %q", env["AUTHKIT_REDIS_PASSWORD"], password)
	}
	if env["KONG_NGINX_MAIN_ENV"] != "AUTHKIT_REDIS_PASSWORD" {
		add("kong: KONG_NGINX_MAIN_ENV=%q: the plugin processes would not see AUTHKIT_REDIS_PASSWORD", env["KONG_NGINX_MAIN_ENV"])
	}
	return problems
}

// k8sRedisProblems checks every KongPlugin with policy redis against the
// manifests and values.yaml.
func k8sRedisProblems(dir string, perms []string) []string {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	type port struct {
		Port int `json:"port"`
	}
	type object struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Plugin     string            `json:"plugin"`
		Config     map[string]any    `json:"config"`
		StringData map[string]string `json:"stringData"`
		Spec       struct {
			Ports []port `json:"ports"`
		} `json:"spec"`
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var objs []object
	for _, f := range files {
		if filepath.Base(f) == "values.yaml" {
			continue
		}
		data, _ := os.ReadFile(f)
		for _, d := range strings.Split("\n"+string(data), "\n---") {
			var o object
			if err := yaml.Unmarshal([]byte(d), &o); err != nil {
				return []string{fmt.Sprintf("%s: %v", f, err)}
			}
			if o.Kind != "" {
				objs = append(objs, o)
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "values.yaml"))
	if err != nil {
		return []string{err.Error()}
	}
	var values struct {
		Env       map[string]any `json:"env"`
		CustomEnv map[string]struct {
			ValueFrom struct {
				SecretKeyRef struct {
					Name string `json:"name"`
					Key  string `json:"key"`
				} `json:"secretKeyRef"`
			} `json:"valueFrom"`
		} `json:"customEnv"`
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		return []string{err.Error()}
	}
	secret := func(name string) map[string]string {
		for _, o := range objs {
			if o.Kind == "Secret" && o.Metadata.Name == name {
				return o.StringData
			}
		}
		return nil
	}
	uses := 0
	for _, o := range objs {
		if (o.Kind != "KongPlugin" && o.Kind != "KongClusterPlugin") || o.Config["policy"] != "redis" {
			continue
		}
		uses++
		where := "KongPlugin " + o.Metadata.Name
		r, _ := o.Config["redis"].(map[string]any)
		if pw, _ := r["password"].(string); pw != "" {
			add("%s: redis.password in the manifest; use password_env", where)
		}
		env, _ := r["password_env"].(string)
		if env == "" {
			add("%s: no redis.password_env", where)
			continue
		}
		if got := fmt.Sprint(values.Env["nginx_main_env"]); got != env {
			add("values.yaml: env.nginx_main_env=%q, want %q: Kong passes no environment to plugin processes otherwise", got, env)
		}
		ref, ok := values.CustomEnv[env]
		if !ok {
			add("values.yaml: customEnv has no %s for %s's password_env", env, where)
			continue
		}
		sec := secret(ref.ValueFrom.SecretKeyRef.Name)
		password, ok := sec[ref.ValueFrom.SecretKeyRef.Key]
		if !ok {
			add("values.yaml: customEnv.%s names Secret %s key %s, which the manifests do not define", env, ref.ValueFrom.SecretKeyRef.Name, ref.ValueFrom.SecretKeyRef.Key)
			continue
		}
		// The Redis the plugin names: a Service of the manifests, with
		// the port; its ACL file holds README's user with this password.
		host, _ := r["host"].(string)
		svc, _, _ := strings.Cut(host, ".")
		wantPort := 6379
		if p, ok := r["port"].(float64); ok {
			wantPort = int(p)
		}
		served := false
		for _, s := range objs {
			if s.Kind == "Service" && s.Metadata.Name == svc && slices.ContainsFunc(s.Spec.Ports, func(p port) bool { return p.Port == wantPort }) &&
				(host == svc || strings.HasPrefix(host, svc+"."+s.Metadata.Namespace+".")) {
				served = true
			}
		}
		if !served {
			add("%s: redis.host %q port %d is not a Service of the manifests", where, host, wantPort)
		}
		prefix := "authkit:"
		if p, ok := r["key_prefix"].(string); ok {
			prefix = p
		}
		if !slices.Contains(perms, "~"+prefix+"*") {
			add("%s: key_prefix %q is not the one README's ACL allows", where, prefix)
		}
		acl := sec["users.acl"]
		matched := false
		for _, line := range strings.Split(acl, "\n") {
			f := strings.Fields(line)
			if len(f) > 1 && f[0] == "user" && f[1] == "authkit" {
				pw, p := aclProblem("Secret "+ref.ValueFrom.SecretKeyRef.Name+" users.acl", f[1:], perms)
				if p != "" {
					add("%s", p)
				} else if pw != password {
					add("Secret %s: users.acl's authkit password is not the password key's", ref.ValueFrom.SecretKeyRef.Name)
				}
				matched = true
			}
		}
		if !matched {
			add("Secret %s: users.acl has no authkit user", ref.ValueFrom.SecretKeyRef.Name)
		}
		if !strings.Contains(acl, "user default off") {
			add("Secret %s: users.acl does not turn the default user off", ref.ValueFrom.SecretKeyRef.Name)
		}
	}
	if uses == 0 {
		add("no KongPlugin with policy: redis (the optional Redis example)")
	}
	return problems
}

func TestRedisDeploy(t *testing.T) {
	root := kongwire.ModuleRoot(t)
	perms := readmeACL(t, root)
	reportProblems(t, "deploy/compose.yaml (redis)", composeRedisProblems(filepath.Join(root, "deploy", "compose.yaml"), perms))
	reportProblems(t, "deploy/kubernetes (redis)", k8sRedisProblems(filepath.Join(root, "deploy", "kubernetes"), perms))
}

func TestRedisDeployChecksCanFail(t *testing.T) {
	root := kongwire.ModuleRoot(t)
	perms := readmeACL(t, root)
	compose := filepath.Join(root, "deploy", "compose.yaml")
	for _, c := range []struct{ name, old, new, want string }{
		{"acl wider", `+cluster|slots"]`, `+cluster|slots", "+keys"]`, "differ from README's"},
		{"password differs", "AUTHKIT_REDIS_PASSWORD: authkit-demo-redis-password", "AUTHKIT_REDIS_PASSWORD: other", "is not the redis authkit user's password"},
		{"no nginx_main_env", "KONG_NGINX_MAIN_ENV: AUTHKIT_REDIS_PASSWORD", "KONG_NGINX_MAIN_ENV: OTHER", "KONG_NGINX_MAIN_ENV"},
		{"unpinned", "image: redis:7.2.7-alpine", "image: redis:latest", "pinned"},
		{"default user on", "--user, default, \"off\"", "--user, default, \"on\"", "want off"},
	} {
		t.Run("compose "+c.name, func(t *testing.T) {
			wantProblem(t, composeRedisProblems(brokenCopy(t, compose, c.old, c.new), perms), c.want)
		})
	}
	src := filepath.Join(root, "deploy", "kubernetes")
	for _, c := range []struct{ file, old, new, want string }{
		{"redis.yaml", "  password: CHANGE-ME-long-random\n", "  password: other\n", "not the password key's"},
		{"redis.yaml", "host: authkit-redis.default.svc.cluster.local", "host: redis.default.svc.cluster.local", "is not a Service"},
		{"redis.yaml", "    password_env: AUTHKIT_REDIS_PASSWORD\n", "    password: x\n", "use password_env"},
		{"redis.yaml", ` +time +cluster|slots`, ` +time +cluster|slots +flushall`, "differ from README's"},
		{"values.yaml", "  nginx_main_env: AUTHKIT_REDIS_PASSWORD", "  nginx_main_env: OTHER", "env.nginx_main_env"},
		{"values.yaml", "        key: password\n", "        key: pw\n", "which the manifests do not define"},
	} {
		t.Run("kubernetes "+c.file+": "+c.want, func(t *testing.T) {
			dir := t.TempDir()
			entries, _ := os.ReadDir(src)
			for _, e := range entries {
				p := filepath.Join(src, e.Name())
				if e.Name() == c.file {
					p = brokenCopy(t, p, c.old, c.new)
				}
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			wantProblem(t, k8sRedisProblems(dir, perms), c.want)
		})
	}
}

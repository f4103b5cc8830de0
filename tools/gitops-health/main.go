// gitops-health reads Kubernetes objects as JSON and prints, for each, the health Argo CD gives it (by
// running the object's Argo CD Lua health check the way Argo CD runs it) and the status kstatus computes
// (sigs.k8s.io/cli-utils/pkg/kstatus/status, what Flux's health checks and `kapply` use). The tests run it
// on jobherald's objects to prove that both tools read the operator's status the same way
// (docs/gitops-health.md).
//
// Usage: gitops-health --health-dir DIR [FILE|-]...
//
// Input: each FILE (or stdin when none is given, or "-") holds one JSON object, a JSON array of objects, or
// a Kubernetes List ({"kind": "List", "items": [...]}). DIR holds the scripts, one per kind, named like the
// argocd-cm key that carries them: <group>_<kind>.lua (core kinds: <kind>.lua).
//
// Output (stdout): one JSON array, an entry per object in input order:
//
//	{"apiVersion", "kind", "namespace", "name",
//	 "argo": {"script", "status", "message", "error"?}  (null when DIR has no script for the kind),
//	 "kstatus": {"status", "message", "error"?}}
//
// Exit status: 0 when every script and kstatus ran, 1 when one failed (its entry says why; Argo CD shows
// such an object as Unknown), 2 on bad usage or unreadable input.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sjson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// The statuses Argo CD accepts from a health script; anything else becomes Unknown.
var argoStatuses = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

// Argo CD gives a health script one second.
const scriptTimeout = time.Second

type argoResult struct {
	Script  string `json:"script"`
	Status  string `json:"status"`
	Message string `json:"message"`
	Error   string `json:"error,omitempty"`
}

type kstatusResult struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Error   string `json:"error,omitempty"`
}

type result struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Namespace  string         `json:"namespace,omitempty"`
	Name       string         `json:"name"`
	Argo       *argoResult    `json:"argo"`
	Kstatus    *kstatusResult `json:"kstatus"`
}

func main() {
	healthDir := flag.String("health-dir", "", "directory of Argo CD health scripts named <group>_<kind>.lua")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: gitops-health --health-dir DIR [FILE|-]...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *healthDir == "" {
		flag.Usage()
		os.Exit(2)
	}
	objects, err := readObjects(flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "gitops-health:", err)
		os.Exit(2)
	}
	results := make([]result, 0, len(objects))
	failed := false
	for _, obj := range objects {
		r := evaluate(obj, *healthDir)
		if (r.Argo != nil && r.Argo.Error != "") || r.Kstatus.Error != "" {
			failed = true
		}
		results = append(results, r)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	out.SetEscapeHTML(false) // Lua error messages name "<string>"
	if err := out.Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, "gitops-health:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

func evaluate(obj *unstructured.Unstructured, healthDir string) result {
	r := result{
		APIVersion: obj.GetAPIVersion(),
		Kind:       obj.GetKind(),
		Namespace:  obj.GetNamespace(),
		Name:       obj.GetName(),
		Argo:       argoHealth(obj, healthDir),
		Kstatus:    &kstatusResult{},
	}
	computed, err := status.Compute(obj)
	if err != nil {
		r.Kstatus.Error = err.Error()
	} else {
		r.Kstatus.Status = computed.Status.String()
		r.Kstatus.Message = computed.Message
	}
	return r
}

// readObjects decodes every input with Kubernetes' JSON decoder, which turns whole numbers into int64 as
// the API machinery does (kstatus reads metadata.generation with NestedInt64, and Argo CD's objects come
// from the same decoder).
func readObjects(paths []string) ([]*unstructured.Unstructured, error) {
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	var objects []*unstructured.Unstructured
	for _, path := range paths {
		var data []byte
		var err error
		if path == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(path)
		}
		if err != nil {
			return nil, err
		}
		var doc any
		if err := k8sjson.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		found, err := collect(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		objects = append(objects, found...)
	}
	return objects, nil
}

// collect flattens an object, an array of objects or a List into objects.
func collect(doc any) ([]*unstructured.Unstructured, error) {
	switch v := doc.(type) {
	case []any:
		var all []*unstructured.Unstructured
		for i, item := range v {
			found, err := collect(item)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			all = append(all, found...)
		}
		return all, nil
	case map[string]any:
		if items, ok := v["items"].([]any); ok && strings.HasSuffix(fmt.Sprint(v["kind"]), "List") {
			return collect(items)
		}
		obj := &unstructured.Unstructured{Object: v}
		if obj.GetKind() == "" || obj.GetAPIVersion() == "" {
			return nil, errors.New("an object needs apiVersion and kind")
		}
		return []*unstructured.Unstructured{obj}, nil
	default:
		return nil, fmt.Errorf("expected a JSON object or array, got %T", doc)
	}
}

// scriptName is the argocd-cm key suffix Argo CD looks the kind up by: <group>_<kind>, or <kind> for the
// core group.
func scriptName(obj *unstructured.Unstructured) string {
	gvk := obj.GroupVersionKind()
	if gvk.Group == "" {
		return gvk.Kind + ".lua"
	}
	return gvk.Group + "_" + gvk.Kind + ".lua"
}

func argoHealth(obj *unstructured.Unstructured, healthDir string) *argoResult {
	name := scriptName(obj)
	script, err := os.ReadFile(filepath.Join(healthDir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	r := &argoResult{Script: name}
	if err == nil {
		r.Status, r.Message, err = runHealthScript(obj.Object, string(script))
	}
	if err != nil {
		// What Argo CD shows for a script that fails.
		r.Status, r.Message, r.Error = "Unknown", err.Error(), err.Error()
	}
	return r
}

// runHealthScript runs a health script as Argo CD's controller does for a script from argocd-cm: a fresh
// state with only the package, base and table libraries (no string, io or os: useOpenLibs is off by
// default; Argo CD's restricted os library is left out too, so a script that needs it fails here rather
// than passing), the object as the global `obj`, a one-second limit, and the returned table's `status` and
// `message`.
func runHealthScript(object map[string]any, script string) (string, string, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return "", "", fmt.Errorf("opening Lua library %q: %w", lib.name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, object))
	if err := l.DoString(script); err != nil {
		return "", "", err
	}
	switch ret := l.Get(-1).(type) {
	case *lua.LTable:
		if empty(ret) {
			// Argo CD decodes an empty table as an empty health status, not an invalid one.
			return "", "", nil
		}
		statusValue, ok := ret.RawGetString("status").(lua.LString)
		if !ok || !argoStatuses[string(statusValue)] {
			return "Unknown", "Lua returned an invalid health status", nil
		}
		message := ""
		if m, ok := ret.RawGetString("message").(lua.LString); ok {
			message = string(m)
		}
		return string(statusValue), message, nil
	default:
		if ret == lua.LNil {
			// Argo CD takes nil as "no health".
			return "", "", nil
		}
		return "", "", fmt.Errorf("expect table output from Lua script, not %s", ret.Type())
	}
}

func empty(t *lua.LTable) bool {
	key, _ := t.Next(lua.LNil)
	return key == lua.LNil
}

// toLua converts decoded JSON the way Argo CD hands objects to scripts: maps become tables keyed by field
// name, arrays become sequences (1-based, so ipairs works), numbers become Lua numbers, null becomes nil.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for key, item := range v {
			t.RawSetString(key, toLua(l, item))
		}
		return t
	default:
		return lua.LNil
	}
}

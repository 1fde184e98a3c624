"""The container image recipe. Building the image takes too long for the test suite (tools/build-image.sh builds it with buildah); instead:
every package the Dockerfile installs exists in Debian bookworm (this machine is bookworm), the
build stage installs what `./dev deps` installs for building, the runtime stage provides every
shared library the real binaries link, and the build context (.dockerignore) still configures."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from chartlib import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"

# In `./dev`'s package list but not needed to build the two shipped binaries: test, benchmark,
# fuzzing and demo tools.
NOT_FOR_BUILDING = {
    "libgtest-dev", "libgmock-dev", "curl", "openssl", "nginx", "haproxy", "prometheus",
    # nginx's stream module: the TLS passthrough test compares with ssl_preread.
    "libnginx-mod-stream",
    "etcd-server", "etcd-client", "wrk", "clang", "libclang-rt-14-dev",
    # The e2e tests put backends in a network namespace (ip netns).
    "iproute2",
    # Speeds up rebuilds on a developer's machine; an image is built once.
    "ccache",
    # The browser that judges CORS answers in tests/integration/test_cors_browser.py.
    "chromium",
    # htpasswd, which writes the users files of tests/integration/test_basic_auth.py.
    "apache2-utils",
}


def stages() -> list[dict]:
    """The Dockerfile as stages: base image, name, apt packages, other instructions."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    result = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            parts = rest.split()
            result.append({"base": parts[0], "name": parts[2] if len(parts) > 2 else "",
                           "packages": [], "lines": []})
            continue
        stage = result[-1]
        stage["lines"].append((instruction, rest.strip()))
        if instruction == "RUN" and "apt-get" in rest:
            for command in rest.split("&&"):
                words = command.split()
                if "install" in words and "apt-get" in words:
                    stage["packages"] += [w for w in words[words.index("install") + 1:]
                                          if not w.startswith("-")]
    return result


def dev_packages() -> list[str]:
    text = (REPO_ROOT / "dev").read_text()
    match = re.search(r"readonly DEBIAN_PACKAGES=\((.*?)\n\)", text, re.S)
    assert match, "DEBIAN_PACKAGES not found in ./dev"
    body = "\n".join(line.split("#")[0] for line in match.group(1).splitlines())
    return body.split()


def test_two_stages_on_bookworm():
    build, runtime = stages()
    assert build["base"] == "debian:bookworm" and build["name"] == "build"
    assert runtime["base"] == "debian:bookworm-slim"


def test_build_stage_installs_what_dev_installs_for_building():
    build, _ = stages()
    assert set(build["packages"]) == set(dev_packages()) - NOT_FOR_BUILDING
    run_lines = " ".join(rest for instruction, rest in build["lines"] if instruction == "RUN")
    assert "--preset release" in run_lines
    assert "--target pier-controller pier-dataplane" in run_lines


def test_runtime_stage_is_small_and_unprivileged():
    _, runtime = stages()
    packages = set(runtime["packages"])
    assert "ca-certificates" in packages
    assert not [p for p in packages if p.endswith("-dev")]
    assert not packages & {"build-essential", "cmake", "gcc", "g++"}
    assert ("USER", "65532:65532") in runtime["lines"]
    copies = [rest for instruction, rest in runtime["lines"] if instruction == "COPY"]
    assert copies == ["--from=build /out/ /"]
    build_runs = " ".join(rest for instruction, rest in stages()[0]["lines"])
    for binary in ("pier-controller", "pier-dataplane"):
        assert f"/out/usr/local/bin/{binary}" in build_runs


def bookworm_or_skip():
    try:
        release = Path("/etc/os-release").read_text()
    except OSError:
        pytest.skip("no /etc/os-release")
    if "VERSION_CODENAME=bookworm" not in release or not shutil.which("apt-cache"):
        pytest.skip("not a Debian bookworm machine with apt-cache")


@pytest.mark.parametrize("stage", ["build", "runtime"])
def test_every_package_exists_in_bookworm(stage):
    bookworm_or_skip()
    packages = stages()[0 if stage == "build" else 1]["packages"]
    assert packages
    # One call for all: apt-cache is slow to start. It prints the packages it knows and
    # complains about the others.
    result = subprocess.run(["apt-cache", "show", "--no-all-versions", *packages],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            timeout=60, check=False)
    found = set(re.findall(r"^Package: (\S+)$", result.stdout, re.M))
    missing = sorted(set(packages) - found)
    assert not missing, f"not in bookworm: {missing}"


def binaries_or_skip() -> list[Path]:
    candidates = [os.environ.get("PIER_BIN_DIR", ""), str(REPO_ROOT / "build/release/bin")]
    for directory in filter(None, candidates):
        paths = [Path(directory) / name for name in ("pier-controller", "pier-dataplane")]
        if all(os.access(p, os.X_OK) for p in paths):
            return paths
    pytest.skip("pier-controller/pier-dataplane not built (set PIER_BIN_DIR)")


def owning_packages(libraries: set[str]) -> set[str]:
    """The Debian packages that own these files (one dpkg call: it is slow per call)."""
    candidates = {}
    for library in libraries:
        # Debian merges /lib into /usr/lib; dpkg knows each file under one spelling only.
        spellings = set()
        for path in (library, os.path.realpath(library)):
            spellings |= {path, path.replace("/usr/lib/", "/lib/", 1),
                          path.replace("/lib/", "/usr/lib/", 1) if path.startswith("/lib/") else path}
        candidates[library] = spellings
    queries = sorted(set().union(*candidates.values()))
    result = subprocess.run(["dpkg", "-S", *queries], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    owner = {}
    for line in result.stdout.splitlines():
        package, _, path = line.partition(": ")
        owner[path] = package.split(":")[0]
    packages = set()
    for library, spellings in candidates.items():
        found = [owner[s] for s in spellings if s in owner]
        assert found, f"no package owns {library}"
        packages.add(found[0])
    return packages


def test_runtime_stage_provides_every_linked_library():
    bookworm_or_skip()
    binaries = binaries_or_skip()
    libraries = set()
    for binary in binaries:
        ldd = subprocess.run(["ldd", str(binary)], stdout=subprocess.PIPE, text=True,
                             timeout=30, check=True).stdout
        libraries |= set(re.findall(r"=> (/\S+)", ldd))
    needed = owning_packages(libraries)
    assert "libgrpc++1.51" in needed  # the binaries are the real ones, not stubs
    runtime = stages()[1]["packages"]
    closure = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
         "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *runtime],
        stdout=subprocess.PIPE, text=True, timeout=60, check=True).stdout
    available = {line.strip() for line in closure.splitlines() if not line.startswith(" ")}
    available |= set(runtime)
    assert needed - available == set(), "linked but not installed in the runtime stage"


# --- build context --------------------------------------------------------------------------

def dockerignore_patterns() -> list[tuple[bool, str]]:
    patterns = []
    for line in (REPO_ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").lstrip("/"))
        patterns.append((negated, pattern))
    return patterns


def pattern_matches(pattern: str, path: str) -> bool:
    """Docker's rule: a pattern excludes a path when it matches the path or a parent of it.
    `**` spans directories; `*` stays within one (approximated with fnmatch per segment)."""
    parts = path.split("/")
    for end in range(1, len(parts) + 1):
        if segments_match(pattern.split("/"), parts[:end]):
            return True
    return False


def segments_match(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(segments_match(pattern[1:], parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and \
        segments_match(pattern[1:], parts[1:])


def in_context(path: str, patterns: list[tuple[bool, str]]) -> bool:
    excluded = False
    for negated, pattern in patterns:
        if pattern_matches(pattern, path):
            excluded = not negated
    return not excluded


def test_dockerignore_semantics():
    patterns = dockerignore_patterns()
    assert not in_context("build/release/bin/pier-dataplane", patterns)
    assert not in_context("build-h8/CMakeCache.txt", patterns)
    assert not in_context(".git/HEAD", patterns)
    assert not in_context("tests/unit/routing/CMakeLists.txt", patterns)
    assert not in_context("controller/src/__pycache__/x.pyc", patterns)
    assert in_context("tests/CMakeLists.txt", patterns)
    assert in_context("dataplane/src/main.cc", patterns)
    assert in_context("CMakePresets.json", patterns)


@pytest.mark.timeout(180)
def test_build_context_configures(tmp_path):
    if not shutil.which("cmake") or not shutil.which("ninja"):
        pytest.skip("cmake/ninja not installed")
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, timeout=30, check=True)
    patterns = dockerignore_patterns()
    context = tmp_path / "context"
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO_ROOT / name
        if source.is_file() and in_context(name, patterns):
            target = context / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    # What the Dockerfile runs, configure only: the compile itself is the release build.
    result = subprocess.run(["cmake", "--preset", "release", "-DPIER_BUILD_TESTS=OFF",
                             "-B", str(tmp_path / "build")], cwd=context,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=170, check=False)
    assert result.returncode == 0, result.stdout[-4000:]
    build_ninja = (tmp_path / "build" / "build.ninja").read_text()
    for target in ("pier-controller", "pier-dataplane"):
        assert f"bin/{target}" in build_ninja


def test_hadolint_if_installed():
    # hadolint is not packaged by Debian; when a developer has it, hold the Dockerfile to it.
    hadolint = shutil.which("hadolint")
    if not hadolint:
        pytest.skip("hadolint is not installed (not a Debian package)")
    result = subprocess.run([hadolint, str(DOCKERFILE)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout

#!/bin/sh
# cli_install.sh: `make install` into a DESTDIR tree, then the installed tools,
# manual pages, library (through pkg-config), bash completion, and `make
# uninstall` leaving nothing behind.
. "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${BUILD:-$REPO/build}" && pwd)
ROOT=$T/root
P=$ROOT/usr

# the configuration this build was made with, so make finds it current
cfg=CUDA=0
if [ -d "$BUILD/emu-src" ]; then cfg=EMU=1
elif [ -d "$BUILD/obj/kernels" ]; then cfg=CUDA=1
fi
mk() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
        make -C "$REPO" --no-print-directory BUILD="$BUILD" $cfg DESTDIR="$ROOT" PREFIX=/usr "$@"
}

if ! mk install >"$T/install.log" 2>&1; then
    notok "make install" "$(tail -n 5 "$T/install.log" | tr '\n' ' ')"
    exit 0
fi
ok "make install DESTDIR=... PREFIX=/usr"
if grep -Eq '^(gcc|g\+\+|clang|nvcc|ar) ' "$T/install.log"; then
    notok "make install builds nothing on a current build" "$(grep -E '^(gcc|g\+\+|nvcc|ar) ' "$T/install.log" | head -n 2)"
else
    ok "make install builds nothing on a current build"
fi

missing=
for t in "$REPO"/bin/*.c; do
    t=$(basename "$t" .c)
    [ -x "$P/bin/$t" ] || missing="$missing bin/$t"
    [ -L "$P/share/bash-completion/completions/$t" ] || missing="$missing completion/$t"
done
for h in "$REPO"/lib/*/*.h; do
    h=${h#"$REPO"/lib/}
    [ -f "$P/include/disq/$h" ] || missing="$missing include/disq/$h"
done
for f in lib/libdisq.a lib/pkgconfig/disq.pc share/bash-completion/completions/disq \
         share/doc/disq/examples/README.md share/doc/disq/examples/demo.sh \
         share/doc/disq/examples/table1/Makefile; do
    [ -f "$P/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "installed files present"; else notok "installed files present" "missing:$missing"; fi
if grep -q "$ROOT" "$P/lib/pkgconfig/disq.pc"; then
    notok "disq.pc free of DESTDIR" "$(grep "$ROOT" "$P/lib/pkgconfig/disq.pc")"
else
    ok "disq.pc free of DESTDIR"
fi

# a pipeline of installed tools
"$P/bin/dsload" dsprites --sample 300 --no-cache --batch 100 2>"$T/err" |
    "$P/bin/metric" mig --field s --train 200 --test 100 >"$T/out" 2>>"$T/err"
if [ $? = 0 ] && grep -Eq '^mig +mig +[0-9.]+' "$T/out"; then
    ok "installed dsload | metric"
else
    notok "installed dsload | metric" "$(cat "$T/out" "$T/err" | head -c 300)"
fi

# every manual page of man/ found under the installed man directory
if command -v man >/dev/null 2>&1; then
    bad=
    for m in "$REPO"/man/man*/*.[0-9]; do
        page=$(basename "$m")
        sec=${page##*.}
        where=$(man -M "$P/share/man" -w "$sec" "${page%.*}" 2>/dev/null)
        case $where in "$P/share/man/man$sec/$page"*) ;; *) bad="$bad $page" ;; esac
    done
    if [ -z "$bad" ]; then ok "man -M finds every page"; else notok "man -M finds every page" "not found:$bad"; fi
else
    skip "man pages" "no man program"
fi

# a program using the installed library through pkg-config
if command -v pkg-config >/dev/null 2>&1; then
    cat >"$T/use.c" <<'C'
#include <stdio.h>
#include "core/stream.h"
int main(void) {
    dq_header h;
    char name[32];
    dq_header_init(&h);
    dq_header_set_dataset(&h, "shapes3d");
    int rc = dq_header_get_str(&h, "dataset", name, sizeof name);
    printf("%d %s %d\n", rc, name, h.version);
    dq_header_free(&h);
    return 0;
}
C
    flags=$(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --define-prefix --cflags --libs disq 2>"$T/err")
    case $flags in
    *"-I$P/include/disq"*"-L$P/lib"*|*"-L$P/lib"*"-I$P/include/disq"*)
        # shellcheck disable=SC2086
        if cc -o "$T/use" "$T/use.c" $flags 2>"$T/err" && "$T/use" >"$T/out" 2>>"$T/err" &&
            grep -Eq '^[0-9]+ shapes3d 1$' "$T/out"; then
            ok "C program built with pkg-config --cflags --libs disq"
        else
            notok "C program built with pkg-config --cflags --libs disq" "$(cat "$T/out" "$T/err" | head -c 400)"
        fi ;;
    *) notok "pkg-config --cflags --libs disq" "$flags $(head -c 300 "$T/err")" ;;
    esac
else
    skip "pkg-config" "no pkg-config program"
fi

# bash completion, read from the installed tools' --help
if command -v bash >/dev/null 2>&1; then
    comp() { # comp WANT WORD...: completing the last WORD offers WANT
        want=$1; shift
        got=$(PATH="$P/bin:$PATH" bash -c '
            . "$0/train" || exit 1
            COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
            _disq "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf "%s\n" "${COMPREPLY[@]}"' "$P/share/bash-completion/completions" "$@" 2>&1)
        if printf '%s\n' "$got" | grep -qx -- "$want"; then ok "completion: $* -> $want"
        else notok "completion: $* -> $want" "$(echo $got | head -c 300)"; fi
    }
    comp factorqvae train -m f
    comp dvae-friede train --model dv
    comp shapes3d dsload sh
    comp dci metric d
    comp infomec metric dci in
    comp --device enc --d
    comp cuda enc --device c
    comp --fix-factor dsload --f
else
    skip "completion" "no bash"
fi

if ! mk uninstall >"$T/uninstall.log" 2>&1; then
    notok "make uninstall" "$(tail -n 5 "$T/uninstall.log" | tr '\n' ' ')"
else
    left=$(find "$ROOT" ! -type d | head -n 5)
    if [ -z "$left" ] && [ ! -d "$P/share/doc/disq" ] && [ ! -d "$P/include/disq" ]; then
        ok "make uninstall leaves no files"
    else
        notok "make uninstall leaves no files" "left: $left $(ls -d "$P/share/doc/disq" "$P/include/disq" 2>/dev/null)"
    fi
fi

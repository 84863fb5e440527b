# Bash completion for the disq tools (dsload enc quant dec train tcdisc metric
# traverse curves).  Nothing here lists options, model kinds, datasets or metrics:
# each completion asks the tool itself (`TOOL --help`), so it stays true to
# the installed tools.  Installed by `make install` as
# share/bash-completion/completions/disq with one link per tool name, for
# bash-completion's loading by command name; `source` it to use it directly.

# _disq_value HELP OPT: the values OPT takes when its --help line shows them
# (metavar a|b|c, or a description "a (default) | b | c").
_disq_value() {
    printf '%s\n' "$1" | awk -v opt="$2" '
        function words(s,   n, i, a, out) {
            gsub(/\([^)]*\)/, "", s)
            n = split(s, a, /\|/)
            if (n < 2) return ""
            out = ""
            for (i = 1; i <= n; i++) {
                sub(/^[ \t]+/, "", a[i]); sub(/[ \t]+$/, "", a[i])
                if (i == 1) sub(/.*[ \t]/, "", a[i]); else sub(/[ \t].*/, "", a[i])
                if (a[i] ~ /^[A-Za-z0-9][A-Za-z0-9._-]*$/) out = out " " a[i]
            }
            return out
        }
        found && /^        +[^ -]/ { text = text " " $0; next }
        found { exit }
        {
            i = index($0, opt " ")
            if (i == 0 || substr($0, i + length(opt) + 1, 1) == " ") next
            if (i > 1 && substr($0, i - 1, 1) !~ /[ ,]/) next
            rest = substr($0, i + length(opt) + 1)
            meta = rest; sub(/ .*/, "", meta)
            if (meta ~ /\|/) { gsub(/\|/, " ", meta); print meta; exit }
            text = substr(rest, length(meta) + 1); found = 1
        }
        END { if (found) print words(text) }'
}

_disq() {
    local cmd=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev= help long words i
    [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD-1]}
    COMPREPLY=()
    help=$("$cmd" --help 2>&1) || true

    # the previous word an option that takes a value?
    long=$prev
    case $prev in
    --*) ;;
    -?) long=$(printf '%s\n' "$help" | sed -n "s/.*${prev}, \(--[A-Za-z0-9-]*\).*/\1/p" | head -n 1) ;;
    *) long= ;;
    esac
    if [ -n "$long" ] && printf '%s\n' "$help" | grep -Eq -- "(^|[ ,])$long ([A-Z]|[A-Za-z0-9-]+\|)"; then
        # model kinds: the lines "  NAME   description" under "--model KIND"
        words=$(printf '%s\n' "$help" | awk -v opt="$long KIND" '
            index($0, opt) { on = 1; next }
            on && /^ *-/ { exit }
            on && NF >= 2 && $1 ~ /^[a-z][a-z0-9-]*$/ && $0 ~ /^ +[a-z][a-z0-9-]*  +/ { print $1 }')
        [ -n "$words" ] || words=$(_disq_value "$help" "$long")
        if [ -n "$words" ]; then
            COMPREPLY=($(compgen -W "$words" -- "$cur"))
        else
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur"))
        fi
        return 0
    fi

    case $cur in
    -*)
        words=$(printf '%s\n' "$help" | grep -oE -- '(^|[ ,])--?[A-Za-z0-9][A-Za-z0-9-]*' |
            sed 's/^[ ,]*//' | sort -u)
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return 0
        ;;
    esac

    # operands: dataset names ("Datasets: ..."), metric names ("NAME: ...")
    words=$(printf '%s\n' "$help" | sed -n 's/^\(Datasets\|NAME\): *//p')
    if [ -n "$words" ]; then
        if printf '%s\n' "$help" | grep -q '^Datasets:'; then
            # dsload takes one dataset
            for ((i = 1; i < COMP_CWORD; i++)); do
                case ${COMP_WORDS[i]} in -*) ;; *)
                    case ${COMP_WORDS[i-1]} in -*) ;; *) return 0 ;; esac ;;
                esac
            done
        fi
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    fi
    return 0
}

complete -F _disq @TOOLS@

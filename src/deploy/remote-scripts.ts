/**
 * The POSIX sh programs run on the node, as `/bin/sh -c <program> skygraph-deploy <args...>`:
 * values always arrive as positional arguments, never spliced into the program text.
 */

/** $1 = the public key line. Appends it to $HOME/.ssh/authorized_keys unless that exact line is there. */
export const SSH_KEY_SCRIPT = `exec </dev/null
set -e
umask 077
d="\${HOME:?HOME is not set}/.ssh"
f="$d/authorized_keys"
[ -d "$d" ] || mkdir -m 700 "$d"
[ -e "$f" ] || : > "$f"
if grep -qxF -- "$1" "$f"; then echo "key already in $f"; exit 0; fi
if [ -s "$f" ] && [ -n "$(tail -c 1 "$f")" ]; then echo >> "$f"; fi
printf '%s\\n' "$1" >> "$f"
echo "key added to $f"`;

/**
 * $1 = uploaded script, $2 = interpreter, $3 $4 = whole seconds and fraction until the kill,
 * then the script's arguments.
 */
// why: a watchdog in the remote process group kills the whole group when the time is up. The
// client closing the channel is not enough (the processes would live on) and OpenSSH ignores
// the SSH signal request for root logins. The watchdog polls for the wrapper once a second
// instead of being killed by it, which would race with its own start; <file>.stop (written by
// the client on abort) makes it fire early. The script's stdin is /dev/null.
// Processes that left the group (setsid, daemons) still inherit SKYGRAPH_DEPLOY_STEP=<file>;
// where /proc exists the watchdog finds them by it and kills them too.
export const SCRIPT_WRAPPER = `exec </dev/null
f=$1; i=$2; n=$3; frac=$4; shift 4
pp=$$
( if [ "$frac" != 0 ]; then sleep "$frac" 2>/dev/null || n=$((n + 1)); fi
  while [ "$n" -gt 0 ] && [ ! -e "$f.stop" ]; do sleep 1; kill -0 "$pp" 2>/dev/null || exit 0; n=$((n - 1)); done
  rm -f "$f" "$f.stop"
  for p in /proc/[0-9]*; do
    if tr '\\0' '\\n' < "$p/environ" 2>/dev/null | grep -qxF "SKYGRAPH_DEPLOY_STEP=$f"; then kill -KILL "\${p#/proc/}"; fi
  done
  kill -KILL 0 ) >/dev/null 2>&1 &
SKYGRAPH_DEPLOY_STEP=$f "$i" "$f" "$@" &
wait $!
rc=$?
rm -f "$f"
exit $rc`;

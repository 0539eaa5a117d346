#!/bin/sh
# Install the Impasto bundle for the current user (no root needed), or remove it.
#
#   ./install.sh              run from the unpacked Impasto/ folder: installs it
#   ./install.sh --uninstall  removes it again (downloaded model weights are kept)
#
# Puts the bundle in ~/.local/lib/impasto, a link in ~/.local/bin/impasto, the desktop
# entry in ~/.local/share/applications and the icons in ~/.local/share/icons/hicolor.
# PREFIX and XDG_DATA_HOME move these as usual.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix=${PREFIX:-$HOME/.local}
data=${XDG_DATA_HOME:-$HOME/.local/share}
app="$prefix/lib/impasto"
link="$prefix/bin/impasto"
entry="$data/applications/impasto.desktop"

refresh() {
    # Menus pick the change up without these too, only later; they may be missing.
    update-desktop-database "$data/applications" >/dev/null 2>&1 || true
    gtk-update-icon-cache -q -t "$data/icons/hicolor" >/dev/null 2>&1 || true
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$app"
    if [ -L "$link" ]; then rm -f "$link"; fi
    rm -f "$entry"
    rm -f "$data"/icons/hicolor/*/apps/impasto.png "$data"/icons/hicolor/scalable/apps/impasto.svg
    refresh
    echo "Impasto removed. Model weights stay in $data/Impasto/models (delete by hand if unwanted)."
    exit 0
fi

if [ ! -x "$here/Impasto" ] || [ ! -d "$here/share" ]; then
    echo "install.sh: run the copy inside the unpacked Impasto folder (next to the Impasto program)" >&2
    exit 1
fi

if [ "$here" != "$app" ]; then
    rm -rf "$app"
    mkdir -p "$(dirname "$app")"
    cp -a "$here" "$app"
fi
mkdir -p "$prefix/bin" "$data/applications"
ln -sfn "$app/Impasto" "$link"
(cd "$app/share" && find icons -type f) | while read -r icon; do
    mkdir -p "$data/$(dirname "$icon")"
    cp "$app/share/$icon" "$data/$icon"
done
sed -e "s|^Exec=.*|Exec=\"$app/Impasto\"|" -e "/^# install.sh/d" \
    "$app/share/applications/impasto.desktop" > "$entry"
refresh
echo "Impasto installed in $app; start it from the applications menu or with $link"

"""The settings part of the GUI's state: the run settings the window edits, presets, and
the model to run. AppState (gui/state.py) is made of it and holds the signals it emits.

The settings are the engine's RunSettings, one copy: what the window edits. What actually
ran comes back with each step report (AppState.run_settings)."""

from __future__ import annotations

from pathlib import Path

from engine.catalogue import model_spec
from engine.files import describe_os_error, write_atomically
from engine.model_choice import installed_model, model_choices, pick_model
from engine.presets import apply_preset, matching_preset, preset_names
from engine.session import read_json
from engine.settings import LIVE_FIELDS, SPECS, RunSettings, SettingsError
from engine.vgg import WeightsError
from gui.preferences import Preferences
from gui.preset_files import not_a_preset_text, picture_settings
from gui.sources import blend_weights, fitted_blend

# What the window starts with: the engine's run (one size, from the photo, until the picture
# settles) at 384 px rather than 512 (bench/README.md, "Time to picture").
GUI_DEFAULTS = RunSettings(size=384, snapshot_every=25)
UNDO_LIMIT = 200  # settings changes kept for Edit ▸ Undo


class RunSettingsPart:
    """Settings, presets and the model choice. A part of AppState, which has the signals,
    the preferences, the paintings and the worker these methods use."""

    def set_settings(self, **changes) -> bool:
        """Change settings; live ones reach a running or paused run at its next step."""
        try:
            settings = self.settings.replace(**changes)
        except (TypeError, ValueError) as error:
            self.message.emit("error", problem_text(error))
            self.settingsChanged.emit(self.settings)  # controls show what is in force again
            return False
        self._use_settings(settings)
        return True

    def apply_preset(self, name: str) -> None:
        """Put a named preset's fields on top of the current settings (weights are kept)."""
        if name not in preset_names():
            return
        self.preset = name
        self.preferences.set("preset", name)
        self._use_settings(apply_preset(self.settings, name))

    def preset_label(self) -> str:
        """ "Smooth", "Smooth (modified)" after a change to a preset's field, or "Custom"."""
        match = matching_preset(self.settings)
        if match is not None:
            return match
        return f"{self.preset} (modified)" if self.preset else "Custom"

    def _use_settings(self, settings: RunSettings, send: bool = True, record: bool = True) -> None:
        """Make `settings` the window's; `send` the live changes to a run; `record` the
        change for Undo (the user's changes are; the engine's, and the blend following an
        added or removed painting, are not)."""
        # A blend saved for another number of paintings does not fit these: equal weights.
        settings = settings.replace(style_blend=fitted_blend(settings.style_blend,
                                                             len(self.styles)))  # fmt: skip
        if settings == self.settings:
            return
        old, self.settings = self.settings, settings
        if settings.model != old.model:
            self._model_follows_settings()
        if record:
            self.undo_stack = [*self.undo_stack, old][-UNDO_LIMIT:]
            self.redo_stack = []
            self.undoChanged.emit()
        match = matching_preset(settings)
        if match is not None:
            self.preset = match
            self.preferences.set("preset", match)
        self.settingsChanged.emit(settings)
        if self.style_weights() != blend_weights(old.style_blend, len(self.styles)):
            self.stylesChanged.emit()
        # Only what really changed goes to the run: each update resets L-BFGS's memory.
        live = {key: getattr(settings, key) for key in LIVE_FIELDS
                if getattr(settings, key) != getattr(old, key)}  # fmt: skip
        if send and self.active and live:
            self.worker.update(live)

    # --- undo and redo of settings changes --------------------------------------------------

    def undo(self) -> bool:
        """Go back to the settings before the last change (Edit ▸ Undo, Ctrl+Z)."""
        return self._step_history(self.undo_stack, self.redo_stack)

    def redo(self) -> bool:
        """Make the last undone change again (Edit ▸ Redo, Ctrl+Shift+Z)."""
        return self._step_history(self.redo_stack, self.undo_stack)

    def undo_text(self, redo: bool = False) -> str:
        """ "Undo Style strength": what Undo (or Redo) would change, in the panel's words."""
        stack = self.redo_stack if redo else self.undo_stack
        verb = "Redo" if redo else "Undo"
        if not stack:
            return verb
        changed = [SPECS[name].label for name in SPECS
                   if getattr(stack[-1], name) != getattr(self.settings, name)]  # fmt: skip
        if len(changed) == 1:
            return f"{verb} {changed[0]}"
        return f"{verb} {len(changed)} changes" if changed else verb

    def _step_history(self, source: list[RunSettings], target: list[RunSettings]) -> bool:
        if not source:
            return False
        settings = source.pop()
        target.append(self.settings)
        if len(settings.style_blend) != len(self.styles):  # paintings came or went since
            settings = settings.replace(style_blend=self.settings.style_blend)
        self._use_settings(settings, record=False)
        self.undoChanged.emit()
        return True

    def save_preset(self, path: str) -> None:
        try:
            write_atomically(Path(path), self.settings.to_json())
            self._remember_folder("preset_folder", path)
            self.message.emit("info", f"Preset saved to {Path(path).name}.")
        except OSError as error:
            self.message.emit("error", f"{path}: could not save ({describe_os_error(error)})")

    def load_preset(self, path: str) -> bool:
        try:
            # The one data file loader, then every field's rule: a preset that cannot run is
            # refused here, before it reaches the preferences and every later launch. The
            # user's own file is left where it is (it is theirs, not in Impasto's folders).
            settings = RunSettings.from_dict(read_json(Path(path)))
        except (OSError, ValueError) as error:
            offer = picture_settings(path, self.settings)  # an Impasto picture, maybe
            if offer is not None:
                self.offered_settings = offer.settings
                self.offered_preprocessing = offer.preprocessing
                self.settingsOffered.emit(offer.text, offer.settings is not None)
                return False
            reason = str(error).removeprefix(f"{Path(path)}: ")
            self.message.emit("error", not_a_preset_text(path, reason))
            return False
        self._remember_folder("preset_folder", path)
        self._use_settings(settings)
        return True

    def use_offered_settings(self) -> None:
        """ "Use this picture's settings", after Load preset was given an Impasto picture."""
        settings, self.offered_settings = self.offered_settings, None
        if settings is not None:
            self._use_settings(settings)
            self.use_network(self.offered_preprocessing)
            self.message.emit("info", "Using the picture's settings.")

    # --- model ---------------------------------------------------------------------------

    def refresh_models(self) -> None:
        """Look again at what is installed (manifests only); keep the choice if it still is."""
        self.models = model_choices()
        self.model = pick_model(self.models, self.model or self.preferences.get("model"))
        self._settings_follow_model()
        self.modelsChanged.emit()

    def set_model(self, name: str) -> bool:
        """Run the installed catalogue model `name` from the next Start; remembered."""
        choice = next((c for c in self.models if c.name == name), None)
        if choice is None or not choice.installed or self.active:
            return False
        if name != self.model:
            self.model = name
            self.preferences.set("model", name)
            self._settings_follow_model()
            self.modelsChanged.emit()
        return True

    def model_preprocessing(self) -> str | None:
        """The chosen model's preprocessing: with settings.model, it names the model."""
        return model_spec(self.model).preprocessing if self.model else None

    def use_network(self, preprocessing: str | None) -> None:
        """Choose the installed model of the settings' network with this preprocessing (a
        restored session's), if there is one."""
        try:
            self.set_model(installed_model(self.settings.model, preprocessing))
        except WeightsError:
            pass  # not installed here: the chosen model runs, and the settings follow it

    def _settings_follow_model(self) -> None:
        # The settings name the network that runs: the preferences, the session and a saved
        # picture then say what made it (they said vgg19 while the VGG16 ran).
        if self.model is not None and model_spec(self.model).arch != self.settings.model:
            self._use_settings(self.settings.replace(model=model_spec(self.model).arch),
                               record=False)  # fmt: skip

    def _model_follows_settings(self) -> None:
        # A preset or picture naming another network picks its installed model, keeping
        # the preprocessing where that network has it.
        if self.model is None or self.active:
            return
        for preprocessing in (self.model_preprocessing(), None):
            try:
                name = installed_model(self.settings.model, preprocessing)
            except WeightsError:
                continue
            if name != self.model:
                self.model = name
                self.preferences.set("model", name)
                self.modelsChanged.emit()
            return


def problem_text(error: Exception) -> str:
    """Why settings were refused, each field by the panel's name for it and its own:
    "Style strength (style_weight) must be a finite number …"."""
    if not isinstance(error, SettingsError):
        return str(error)
    return "; ".join(f"{SPECS[name].label} ({name}) {text}" if name in SPECS else f"{name} {text}"
                     for name, text in error.problems)  # fmt: skip


def saved_settings(preferences: Preferences) -> RunSettings:
    """The settings the window closed with, or GUI_DEFAULTS where none are usable."""
    data = preferences.get("settings")
    if isinstance(data, dict):
        try:
            return RunSettings.from_dict(data)
        except ValueError:
            pass
    return GUI_DEFAULTS

"""Closing the window with a picture not saved yet: Save / Discard / Cancel.

Whatever is chosen but Discard, the session (photo, paintings, settings, snapshots and
the latest picture) stays in the autosave folder and is offered at the next launch.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


def ask_before_closing(parent: QWidget, step: int, total: int) -> str:
    """SAVE, DISCARD or CANCEL, as the artist answers (Esc cancels)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Close Impasto")
    box.setText("Save the picture before closing?")
    box.setInformativeText(
        f"The picture at step {step} of {total} is not saved as an image yet. Save writes "
        "it to a file and keeps the session, offered when Impasto opens next; Discard "
        "closes and deletes the session."
    )
    buttons = QMessageBox.StandardButton
    box.setStandardButtons(buttons.Save | buttons.Discard | buttons.Cancel)
    box.setDefaultButton(buttons.Save)
    box.setEscapeButton(buttons.Cancel)
    box.exec()
    clicked = box.standardButton(box.clickedButton()) if box.clickedButton() else None
    answer = {buttons.Save: SAVE, buttons.Discard: DISCARD}.get(clicked, CANCEL)
    box.deleteLater()
    return answer

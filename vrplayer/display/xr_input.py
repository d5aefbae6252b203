"""The headset's controllers: one button, "select", as the viewer's (or the editor's) one input in a headset.

OpenXR names what an application wants (an action), and suggests where it comes from on each kind of controller
(bindings per interaction profile); the runtime binds it to whatever the viewer holds. One boolean action is
enough for what a headset screening asks of a hand: toggle A/B in `vrplayer compare --display xr`. Pressed, it
comes out of `XrDisplay.poll_events` as InputEvent("button", "select").

Bindings suggested, per interaction profile (the runtime may offer the action on others through its own
remapping): the Khronos simple controller's select; Oculus Touch (Quest 2/3, Rift S) A and X; Valve Index A; HTC
Vive the trigger; Windows Mixed Reality the trigger; the Pico 4 A and X.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

SUGGESTED = {
    "/interaction_profiles/khr/simple_controller": ("/user/hand/left/input/select/click", "/user/hand/right/input/select/click"),
    "/interaction_profiles/oculus/touch_controller": ("/user/hand/left/input/x/click", "/user/hand/right/input/a/click"),
    "/interaction_profiles/valve/index_controller": ("/user/hand/left/input/a/click", "/user/hand/right/input/a/click"),
    "/interaction_profiles/htc/vive_controller": ("/user/hand/left/input/trigger/click", "/user/hand/right/input/trigger/click"),
    "/interaction_profiles/microsoft/motion_controller": ("/user/hand/left/input/trigger/value", "/user/hand/right/input/trigger/value"),
    "/interaction_profiles/bytedance/pico4_controller": ("/user/hand/left/input/x/click", "/user/hand/right/input/a/click"),
}
PROFILE_EXTENSIONS = {"/interaction_profiles/bytedance/pico4_controller": "XR_BD_controller_interaction"}


class SelectButton:
    """The "select" action on both hands, attached to `session`; `pressed()` after each xrSyncActions says whether
    it went down since the last sync. Where the runtime refuses (no controllers, an unknown profile), it is off and
    says so once: a headset without hands still plays."""

    def __init__(self, xr, instance, session, enabled_extensions=()):
        self._xr = xr
        self._session = session
        self.action_set = self.action = None
        self.available = False
        try:
            self.action_set = xr.create_action_set(instance, xr.ActionSetCreateInfo(
                action_set_name="vrplayer", localized_action_set_name="vrplayer", priority=0))
            self.action = xr.create_action(self.action_set, xr.ActionCreateInfo(
                action_name="select", action_type=xr.ActionType.BOOLEAN_INPUT, localized_action_name="Select"))
            suggested = 0
            for profile, paths in SUGGESTED.items():
                needs = PROFILE_EXTENSIONS.get(profile)
                if needs and needs not in enabled_extensions:
                    continue
                bindings = [xr.ActionSuggestedBinding(self.action, xr.string_to_path(instance, path)) for path in paths]
                try:
                    xr.suggest_interaction_profile_bindings(instance, xr.InteractionProfileSuggestedBinding(
                        interaction_profile=xr.string_to_path(instance, profile), suggested_bindings=bindings))
                    suggested += 1
                except xr.XrException as exc:  # a runtime that does not know this profile: the others still count
                    log.debug("controller bindings for %s refused: %s", profile, exc)
            xr.attach_session_action_sets(session, xr.SessionActionSetsAttachInfo(action_sets=[self.action_set]))
            self._sync_info = xr.ActionsSyncInfo(active_action_sets=[xr.ActiveActionSet(self.action_set, xr.NULL_PATH)])
            self._get_info = xr.ActionStateGetInfo(action=self.action)
            self.available = suggested > 0
        except xr.XrException as exc:
            log.info("no controller input (%s): the mirror window's keys still work", exc)

    def pressed(self) -> bool:
        """Sync the actions and say whether select went down since the last sync (False while the session is not
        focused: the runtime keeps input for the application in focus)."""
        if not self.available:
            return False
        xr = self._xr
        try:
            xr.sync_actions(self._session, self._sync_info)
            state = xr.get_action_state_boolean(self._session, self._get_info)
        except xr.SessionNotFocused:
            return False
        except xr.XrException as exc:
            log.debug("controller input: %s", exc)
            return False
        return bool(state.is_active and state.changed_since_last_sync and state.current_state)

    def close(self) -> None:
        if self.action_set is not None:
            try:
                self._xr.destroy_action_set(self.action_set)  # its actions go with it
            except Exception as exc:  # an instance already lost takes its action sets with it
                log.debug("destroying the action set: %s", exc)
            self.action_set = self.action = None
        self.available = False

"""OpenXR display: a headset through the OpenXR runtime (pyopenxr), or Monado's simulated one in the tests.

Frame loop, one iteration per headset frame:

    for event in display.poll_events():      # session states, presence, "close" when the runtime wants us gone
        ...
    frame = display.wait_frame()             # xrWaitFrame + xrBeginFrame; None while the session is not running
    if frame is None:
        display.poll_events(timeout=0.05)    # nothing to draw: wait for the session to (re)start
    else:
        display.render_views(draw)           # locate the eyes at frame.display_time, draw each, xrEndFrame

`draw(eye, rotation, tan_bounds, viewport)` is called with that eye's swapchain image bound as the framebuffer:
`rotation` is camera → world in our axes (x right, y down, z forward; the recenter rotation already applied) and
`tan_bounds` the eye's asymmetric frustum, exactly what `SphereRenderer.draw_rays` takes.

The parts: `xr_graphics` makes the GL context the runtime is given (an EGL context of our own where the runtime
takes one, else a hidden window's GLX or WGL context); `xr_swapchain` the images each eye is drawn into, and their
colour formats; `xr_common` what they share (`import xr` switches PyOpenGL's platform to GLX as a side
effect; `load_xr` undoes that).
"""

from __future__ import annotations

import ctypes
import logging
import math
import time

import numpy as np
from OpenGL import GL

from vrplayer import xr_pose
from vrplayer.display.base import InputEvent
from vrplayer.display.xr_common import (
    FrameTimes, HeadPose, StderrToLog, XrFrame, XrUnavailable, address, check, describe, load_xr, monotonic_of,
    say_eyes, text,
)
from vrplayer.display.xr_graphics import binding_extensions, choose_binding, create_context
from vrplayer.display.xr_input import SelectButton
from vrplayer.display.xr_swapchain import SRGB_PREFERENCE, Swapchain, choose_format, format_name

log = logging.getLogger(__name__)


class XrDisplay:
    """A headset. Raises XrUnavailable (a DisplayUnavailable) with one line when there is none."""

    name = "xr"
    fullscreen = True

    def __init__(self, app_name: str = "vrplayer", graphics: str = "auto", yaw: float = 0.0, resolution_scale: float = 1.0,
                 capture: bool = False, prefer_srgb: bool = True):
        """graphics: "auto" (Windows: WGL; elsewhere EGL when the runtime offers XR_MNDX_egl_enable, else GLX),
        "egl", "glx" or "wgl".
        yaw: the film's yaw (degrees) in front of the viewer when the session starts and after `recenter()`.
        capture: keep a copy of every eye's picture for `read_pixels` (costs a read-back per eye; for tests)."""
        self._xr = xr = load_xr()
        self._app_name = app_name
        self._resolution_scale = resolution_scale
        self._capture = capture
        self._prefer_srgb = prefer_srgb
        self._initial_yaw = float(yaw)
        self._world = xr_pose.recenter_rotation(np.eye(3), self._initial_yaw)
        self.instance = self.session = self.space = self._head_space = None
        self._select = None  # the controllers' select button (xr_input.SelectButton), once there is a session
        self._swapchains: list = []
        self._equirect = None  # the equirect layer's swapchain, made by the first render_equirect
        self._captured: list = []  # the swapchains drawn last frame, for read_pixels
        self._gl = None
        self._events: list[InputEvent] = []
        self.state = xr.SessionState.UNKNOWN
        self._running = False
        self._exiting = False
        self._present: bool | None = None
        self._head = (0.0, 0.0, 0.0, 1.0)
        self._eyes_apart = -10.0
        self.eye_offsets: list = []  # each eye from the middle between them (m, our axes, recentered): the last frame's
        self._head_time = 0
        self._times = FrameTimes()
        self._frame = XrFrame()
        self._frame_begun = False
        self.mirror = None  # a display.mirror.Mirror when the operator wants to see what the viewer sees
        try:
            self._create_instance(graphics)
            self._gl = create_context(self.graphics)
            self._create_session()
        except BaseException:
            self.close()
            raise

    # -- set-up ---------------------------------------------------------------------------------------------------

    def _create_instance(self, graphics: str) -> None:
        xr = self._xr
        try:
            with StderrToLog():
                offered = {p.extension_name.decode() if isinstance(p.extension_name, bytes) else p.extension_name
                           for p in xr.enumerate_instance_extension_properties()}
        except xr.RuntimeUnavailableError:
            raise XrUnavailable("no OpenXR runtime found; install one (Monado, SteamVR…) and make it the active runtime") from None
        except xr.XrException as exc:
            raise XrUnavailable(f"the OpenXR runtime does not answer ({describe(exc)}); is its service running?") from None
        self.extensions = offered
        self.graphics = graphics = choose_binding(graphics, offered)
        wanted = binding_extensions(graphics)
        for optional in ("XR_EXT_user_presence", "XR_KHR_composition_layer_equirect2", "XR_KHR_convert_timespec_time"):
            if optional in offered:
                wanted.append(optional)
        self.enabled_extensions = tuple(wanted)
        app_info = xr.ApplicationInfo(application_name=self._app_name[:127], application_version=1,
                                      engine_name="vrplayer", engine_version=1, api_version=xr.Version(1, 0, 0))
        try:
            with StderrToLog():
                self.instance = xr.create_instance(xr.InstanceCreateInfo(application_info=app_info, enabled_extension_names=wanted))
        except xr.RuntimeUnavailableError:
            raise XrUnavailable("no OpenXR runtime found; install one (Monado, SteamVR…) and make it the active runtime") from None
        except xr.XrException as exc:
            raise XrUnavailable(f"the OpenXR runtime would not start ({describe(exc)}); is its service running?") from None
        props = xr.get_instance_properties(self.instance)
        self.runtime_name = text(props.runtime_name)
        self._get_system()

    def _get_system(self) -> None:
        xr = self._xr
        try:
            self.system = xr.get_system(self.instance, xr.SystemGetInfo(form_factor=xr.FormFactor.HEAD_MOUNTED_DISPLAY))
        except xr.FormFactorUnavailableError:
            raise XrUnavailable("no headset found: connect and switch on the headset, then try again") from None
        except xr.XrException as exc:
            raise XrUnavailable(f"the OpenXR runtime has no headset ({describe(exc)})") from None
        presence = None
        if "XR_EXT_user_presence" in self.enabled_extensions:
            presence = xr.SystemUserPresencePropertiesEXT()
        props = xr.SystemProperties(next=address(presence) if presence is not None else None)
        check(xr, xr.raw_functions.xrGetSystemProperties(self.instance, self.system, ctypes.byref(props)))
        self.system_name = text(props.system_name)
        self.presence_supported = bool(presence is not None and presence.supports_user_presence)
        self.max_swapchain_size = (props.graphics_properties.max_swapchain_image_width, props.graphics_properties.max_swapchain_image_height)
        views = xr.enumerate_view_configuration_views(self.instance, self.system, xr.ViewConfigurationType.PRIMARY_STEREO)
        self._view_sizes = [
            (min(max(16, round(v.recommended_image_rect_width * self._resolution_scale)), v.max_image_rect_width),
             min(max(16, round(v.recommended_image_rect_height * self._resolution_scale)), v.max_image_rect_height))
            for v in views
        ]
        # The runtime must be asked for the graphics requirements before a session is made.
        self.gl_requirements = xr.get_opengl_graphics_requirements_khr(self.instance, self.system)

    def _create_session(self) -> None:
        xr = self._xr
        binding = self._gl.binding(xr)
        try:
            self.session = xr.create_session(self.instance, xr.SessionCreateInfo(system_id=self.system, next=address(binding)))
        except xr.XrException as exc:
            raise XrUnavailable(f"cannot start an OpenXR session ({describe(exc)})") from None
        identity = xr.Posef()
        self.space = xr.create_reference_space(self.session, xr.ReferenceSpaceCreateInfo(
            reference_space_type=xr.ReferenceSpaceType.LOCAL, pose_in_reference_space=identity))
        self._head_space = xr.create_reference_space(self.session, xr.ReferenceSpaceCreateInfo(
            reference_space_type=xr.ReferenceSpaceType.VIEW, pose_in_reference_space=identity))
        self._select = SelectButton(xr, self.instance, self.session, self.enabled_extensions)
        formats = list(xr.enumerate_swapchain_formats(self.session))
        self.swapchain_formats = tuple(formats)
        self.swapchain_format = chosen = choose_format(formats, self._prefer_srgb)
        # A linear swapchain holds light, not our gamma-encoded values: the renderer then decodes them as it draws.
        self.linear_swapchain = chosen not in SRGB_PREFERENCE
        if self.linear_swapchain and self._prefer_srgb:
            log.info("the headset runtime offers no sRGB swapchain (%s): colours are written as linear light", format_name(chosen))
        self._swapchains = [Swapchain(xr, self.session, chosen, w, h, self._capture) for w, h in self._view_sizes]
        self._prepare_frame_structs()

    def _prepare_frame_structs(self) -> None:
        """Every struct the frame loop passes to the runtime, made once."""
        xr = self._xr
        n = len(self._swapchains)
        self._wait_info = xr.FrameWaitInfo()
        self._frame_state = xr.FrameState()
        self._begin_info = xr.FrameBeginInfo()
        self._locate_info = xr.ViewLocateInfo(view_configuration_type=xr.ViewConfigurationType.PRIMARY_STEREO, space=self.space)
        self._view_state = xr.ViewState()
        self._views = (xr.View * n)(*[xr.View() for _ in range(n)])
        self._view_count = ctypes.c_uint32(0)
        self._head_location = xr.SpaceLocation()
        self._layer_views = (xr.CompositionLayerProjectionView * n)(*[xr.CompositionLayerProjectionView() for _ in range(n)])
        for layer_view, chain in zip(self._layer_views, self._swapchains):
            layer_view.sub_image.swapchain = chain.handle
            layer_view.sub_image.image_rect.offset.x = layer_view.sub_image.image_rect.offset.y = 0
            layer_view.sub_image.image_rect.extent.width = chain.width
            layer_view.sub_image.image_rect.extent.height = chain.height
            layer_view.sub_image.image_array_index = 0
        self._layer = xr.CompositionLayerProjection(space=self.space, views=self._layer_views)
        self._projection_layers = (ctypes.POINTER(xr.CompositionLayerBaseHeader) * 1)(
            ctypes.cast(ctypes.pointer(self._layer), ctypes.POINTER(xr.CompositionLayerBaseHeader)))
        self._end_info = xr.FrameEndInfo(environment_blend_mode=xr.EnvironmentBlendMode.OPAQUE, layers=self._projection_layers)
        self._end_info.layer_count = 0
        self._event = xr.EventDataBuffer()
        self._event_type = int(xr.StructureType.EVENT_DATA_BUFFER)
        T = xr.StructureType
        self._ev_state, self._ev_instance_loss = int(T.EVENT_DATA_SESSION_STATE_CHANGED), int(T.EVENT_DATA_INSTANCE_LOSS_PENDING)
        self._ev_presence, self._ev_lost = int(T.EVENT_DATA_USER_PRESENCE_CHANGED_EXT), int(T.EVENT_DATA_EVENTS_LOST)
        self._orientation_valid = int(xr.ViewStateFlags.ORIENTATION_VALID_BIT)
        self._space_orientation_valid = int(xr.SpaceLocationFlags.ORIENTATION_VALID_BIT)

    # -- events ---------------------------------------------------------------------------------------------------

    def poll_events(self, timeout: float = 0.0) -> list[InputEvent]:
        """Runtime events since the last call as InputEvents: ("session", name=state, e.g. "focused"),
        ("presence", name="on"/"off"), ("close", name=why) when the runtime wants us to quit or is gone, and
        ("button", "select") when a controller's select button went down (display/xr_input.py).
        Waits up to `timeout` seconds for the first one."""
        deadline = time.monotonic() + timeout
        while True:
            self._pump()
            if self._running and self._select is not None and self._select.pressed():
                self._events.append(InputEvent("button", "select"))
            if self._events or time.monotonic() >= deadline:
                break
            time.sleep(min(0.01, max(0.0, deadline - time.monotonic())))
        events, self._events = self._events, []
        return events

    def _pump(self) -> None:
        xr = self._xr
        if self.instance is None:
            return
        raw_poll = xr.raw_functions.xrPollEvent
        buffer = self._event
        while self.instance is not None:
            buffer._type = self._event_type
            buffer._next = None
            result = raw_poll(self.instance, ctypes.byref(buffer))
            if result != xr.Result.SUCCESS:
                if result.value < 0:
                    self._instance_lost(f"event polling failed ({result.name})")
                return  # EVENT_UNAVAILABLE: the queue is empty
            kind = buffer._type  # an int: types from extensions pyopenxr does not know must not raise
            if kind == self._ev_state:
                event = ctypes.cast(ctypes.byref(buffer), ctypes.POINTER(xr.EventDataSessionStateChanged)).contents
                self._on_state(xr.SessionState(event._state))
            elif kind == self._ev_instance_loss:
                self._instance_lost("the OpenXR runtime is going away")
            elif kind == self._ev_presence:
                event = ctypes.cast(ctypes.byref(buffer), ctypes.POINTER(xr.EventDataUserPresenceChangedEXT)).contents
                self._set_presence(bool(event.is_user_present))
            elif kind == self._ev_lost:
                log.debug("the OpenXR runtime dropped events")

    def _on_state(self, state) -> None:
        xr = self._xr
        S = xr.SessionState
        self.state = state
        log.debug("OpenXR session state %s", state.name)
        self._events.append(InputEvent("session", state.name.lower()))
        if state == S.READY:
            result = xr.raw_functions.xrBeginSession(self.session, ctypes.byref(
                xr.SessionBeginInfo(primary_view_configuration_type=xr.ViewConfigurationType.PRIMARY_STEREO)))
            if result.value < 0:
                raise XrUnavailable(f"the headset session cannot start ({result.name})")
            self._running = True
        elif state == S.STOPPING:
            self._running = False
            check(xr, xr.raw_functions.xrEndSession(self.session))
        elif state == S.LOSS_PENDING:
            self._running = False
            self._destroy_session()
        elif state == S.EXITING:
            self._running = False
            self._exiting = True
            self._events.append(InputEvent("close", "exit"))
        if not self.presence_supported:
            self._set_presence(state in (S.VISIBLE, S.FOCUSED))

    def _set_presence(self, present: bool) -> None:
        if present != self._present:
            self._present = present
            self._events.append(InputEvent("presence", "on" if present else "off"))

    def _instance_lost(self, why: str) -> None:
        log.warning("%s", why)
        self._running = False
        self._exiting = True
        self._destroy_session()
        self._destroy_instance()
        self._set_presence(False)
        self._events.append(InputEvent("close", "lost"))

    # -- frames ---------------------------------------------------------------------------------------------------

    def wait_frame(self) -> XrFrame | None:
        """Wait for the runtime's next frame slot and begin the frame (xrWaitFrame, xrBeginFrame). None when the
        session is not running (then poll events, and wait, until it is). Every frame returned must be finished
        with `render_views` (which submits nothing when `should_render` is false)."""
        if not self._running or self.session is None:
            return None
        xr = self._xr
        t0, c0 = time.perf_counter(), time.thread_time()
        result = xr.raw_functions.xrWaitFrame(self.session, ctypes.byref(self._wait_info), ctypes.byref(self._frame_state))
        if result.value < 0:
            return self._frame_error(result)
        result = xr.raw_functions.xrBeginFrame(self.session, ctypes.byref(self._begin_info))
        if result.value < 0:
            return self._frame_error(result)
        state, frame = self._frame_state, self._frame
        frame.display_time = state.predicted_display_time
        frame.display_period = state.predicted_display_period
        frame.should_render = bool(state.should_render)
        self._frame_begun = True
        self._t_wait = time.perf_counter() - t0
        self._c_wait = time.thread_time() - c0
        return frame

    def _frame_error(self, result) -> None:
        xr = self._xr
        if result == xr.Result.ERROR_INSTANCE_LOST:
            self._instance_lost("the OpenXR runtime is gone")
        elif result == xr.Result.ERROR_SESSION_LOST:
            self._running = False
            self._destroy_session()
            self._events.append(InputEvent("session", "loss_pending"))
            self._set_presence(False)
        elif result == xr.Result.ERROR_SESSION_NOT_RUNNING:
            self._running = False
        else:
            check(xr, result)
        self._frame_begun = False

    def render_views(self, draw) -> None:
        """Finish the frame begun by `wait_frame`: when it should be drawn, locate both eyes at its display time,
        call `draw(eye, rotation, tan_bounds, viewport)` with each eye's swapchain image bound, and submit them as
        a projection layer (xrEndFrame). `draw=None` submits an empty frame."""
        if not self._frame_begun:
            return
        t0, c0 = time.perf_counter(), time.thread_time()
        frame = self._frame
        drawn = frame.should_render and draw is not None and self._draw_eyes(draw, frame.display_time)
        self._end_frame(self._projection_layers if drawn else None, t0, c0)

    def render_equirect(self, draw, size: tuple[int, int]) -> None:
        """Finish the frame begun by `wait_frame` with the film as one equirectangular layer
        (XR_KHR_composition_layer_equirect2, see `equirect_supported`): the compositor samples the sphere for each
        eye itself, at its own display rate. `draw(viewport)` is called with a `size` (W×H) swapchain image bound:
        draw the whole 360°×180° picture into it, GL-style (the picture's top row at the highest y), display-referred
        colour as for `render_views`. The recenter rotation turns the layer."""
        if not self._frame_begun:
            return
        if not self.equirect_supported:
            raise RuntimeError("the OpenXR runtime offers no equirect layers (XR_KHR_composition_layer_equirect2)")
        t0, c0 = time.perf_counter(), time.thread_time()
        frame = self._frame
        drawn = False
        if frame.should_render and draw is not None:
            self._locate_head(frame.display_time)
            chain = self._equirect_chain(size)
            raw = self._xr.raw_functions
            chain.acquire(raw)
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, chain.framebuffer())
            try:
                draw((0, 0, chain.width, chain.height))
                if self._capture:
                    chain.capture()
                    self._captured = [chain]
            finally:
                chain.release(raw)
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
            # The layer's pose takes layer directions (the film's) to the reference space: the inverse of the
            # world rotation, which takes reference-space directions to the film's.
            x, y, z, w = xr_pose.quaternion_from_rotation(xr_pose.from_our_axes(self._world.T))
            o = self._equirect_layer.pose.orientation
            o.x, o.y, o.z, o.w = x, y, z, w
            drawn = True
        self._end_frame(self._equirect_layers if drawn else None, t0, c0)

    def _equirect_chain(self, size: tuple[int, int]) -> Swapchain:
        chain = self._equirect
        if chain is None or (chain.width, chain.height) != tuple(size):
            if chain is not None:
                chain.destroy(self._xr)
            xr = self._xr
            chain = self._equirect = Swapchain(xr, self.session, self.swapchain_format, size[0], size[1], self._capture)
            layer = self._equirect_layer = xr.CompositionLayerEquirect2KHR(
                space=self.space, eye_visibility=xr.EyeVisibility.BOTH, radius=0.0,  # 0: infinitely far
                central_horizontal_angle=2 * math.pi, upper_vertical_angle=math.pi / 2, lower_vertical_angle=-math.pi / 2)
            layer.sub_image.swapchain = chain.handle
            layer.sub_image.image_rect.extent.width, layer.sub_image.image_rect.extent.height = chain.width, chain.height
            self._equirect_layers = (ctypes.POINTER(xr.CompositionLayerBaseHeader) * 1)(
                ctypes.cast(ctypes.pointer(layer), ctypes.POINTER(xr.CompositionLayerBaseHeader)))
        return chain

    def _end_frame(self, layers, t0: float, c0: float) -> None:
        """xrEndFrame with `layers` (a one-element array of layer pointers, or None for an empty frame)."""
        self._frame_begun = False
        t1 = time.perf_counter()
        info = self._end_info
        info.display_time = self._frame.display_time
        if layers is None:
            info.layer_count = 0
        else:
            info.layer_count = 1
            info._layers = layers
        result = self._xr.raw_functions.xrEndFrame(self.session, ctypes.byref(info))
        if result.value < 0:
            self._frame_error(result)
        t2, c2 = time.perf_counter(), time.thread_time()
        times = self._times
        n = times.frames
        times.wait_ms = (times.wait_ms * n + self._t_wait * 1000.0) / (n + 1)
        times.render_ms = (times.render_ms * n + (t1 - t0) * 1000.0) / (n + 1)
        times.end_ms = (times.end_ms * n + (t2 - t1) * 1000.0) / (n + 1)
        times.cpu_ms = (times.cpu_ms * n + (self._c_wait + c2 - c0) * 1000.0) / (n + 1)
        times.frames = n + 1

    def _locate_head(self, display_time: int) -> None:
        location = self._head_location
        result = self._xr.raw_functions.xrLocateSpace(self._head_space, self.space, display_time, ctypes.byref(location))
        if result.value >= 0 and location._location_flags & self._space_orientation_valid:
            o = location.pose.orientation
            self._head = (o.x, o.y, o.z, o.w)
            self._head_time = display_time

    def _draw_eyes(self, draw, display_time: int) -> bool:
        raw = self._xr.raw_functions
        self._locate_info.display_time = display_time
        result = raw.xrLocateViews(self.session, ctypes.byref(self._locate_info), ctypes.byref(self._view_state),
                                   len(self._views), ctypes.byref(self._view_count), self._views)
        if result.value < 0 or not (self._view_state._view_state_flags & self._orientation_valid):
            return False
        self._locate_head(display_time)
        world = self._world
        count = min(self._view_count.value, len(self._swapchains))
        self.eye_offsets = xr_pose.eye_offsets([(v.pose.position.x, v.pose.position.y, v.pose.position.z)
                                                for v in self._views[:count]], world)
        self._eyes_apart = say_eyes(self.eye_offsets, self.view_fovs, self._eyes_apart)
        for eye in range(count):
            view, chain, layer_view = self._views[eye], self._swapchains[eye], self._layer_views[eye]
            chain.acquire(raw)
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, chain.framebuffer())
            o, fov = view.pose.orientation, view.fov
            rotation = world @ xr_pose.head_rotation(o.x, o.y, o.z, o.w)
            tan_bounds = xr_pose.tan_bounds_from_fov(fov.angle_left, fov.angle_right, fov.angle_up, fov.angle_down)
            try:
                draw(eye, rotation, tan_bounds, (0, 0, chain.width, chain.height))
                if self._capture:
                    chain.capture()
            finally:
                chain.release(raw)
            layer_view.pose = view.pose
            layer_view.fov = fov
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        self._captured = self._swapchains
        return True

    # -- head pose, recenter --------------------------------------------------------------------------------------

    @property
    def head_pose(self) -> HeadPose:
        """The head at the last rendered frame's predicted display time (recenter applied)."""
        rotation = self._world @ xr_pose.head_rotation(*self._head)
        yaw, pitch, roll = xr_pose.yaw_pitch_roll(rotation)
        return HeadPose(yaw, pitch, roll, self._head_time, self.monotonic_time(self._head_time), rotation)

    def monotonic_time(self, xr_time: int) -> float | None:
        """An XrTime on time.monotonic()'s clock (XR_KHR_convert_timespec_time), None when the runtime cannot say."""
        return monotonic_of(self._xr, self.instance, self.enabled_extensions, xr_time)

    def make_current(self) -> None:
        """Make the headset's GL context current again (after drawing into another window's, like the mirror)."""
        self._gl.make_current()

    def recenter(self, yaw: float | None = None) -> None:
        """Turn the film (about the vertical only: the horizon stays level) so that the viewer, facing where they
        face now, sees the film's `yaw` (default: the yaw given at start)."""
        if yaw is not None:
            self._initial_yaw = float(yaw)
        head = xr_pose.head_rotation(*self._head)
        self._world = xr_pose.recenter_rotation(head, self._initial_yaw)

    @property
    def view_fovs(self) -> list[tuple[float, float, float, float]]:
        """Each eye's field of view at the last rendered frame: (left, right, up, down) angles in radians."""
        return [(v.fov.angle_left, v.fov.angle_right, v.fov.angle_up, v.fov.angle_down) for v in self._views[: self._view_count.value]]

    @property
    def world_rotation(self) -> np.ndarray:
        return self._world

    # -- session control ------------------------------------------------------------------------------------------

    def request_exit(self) -> None:
        """Ask the runtime to end the session: STOPPING (we end it), then EXITING, then a ("close") event."""
        if self.session is not None and self._running:
            check(self._xr, self._xr.raw_functions.xrRequestExitSession(self.session))

    def restart(self) -> None:
        """Make a new session after the old one was lost (a "loss_pending" session event). Raises XrUnavailable
        while the headset is still away."""
        self._destroy_session()
        if self.instance is None:
            raise XrUnavailable("the OpenXR runtime is gone; start vrplayer again")
        self._get_system()
        self._exiting = False
        self._create_session()

    @property
    def running(self) -> bool:
        return self._running

    @property
    def headset_on(self) -> bool:
        """Whether the headset is on a head (XR_EXT_user_presence), else whether the session is visible."""
        return bool(self._present)

    @property
    def frame_times(self) -> FrameTimes:
        return FrameTimes(**vars(self._times))

    def reset_frame_times(self) -> None:
        self._times = FrameTimes()

    @property
    def equirect_supported(self) -> bool:
        """Whether the runtime offers XR_KHR_composition_layer_equirect2 (the film as a layer, sampled by the
        compositor itself)."""
        return "XR_KHR_composition_layer_equirect2" in self.extensions

    # -- the Display interface ------------------------------------------------------------------------------------

    def framebuffer_size(self) -> tuple[int, int]:
        """One eye's picture size."""
        return self._view_sizes[0] if self._view_sizes else (0, 0)

    def present(self) -> None:
        """Nothing: `render_views` submits each frame."""

    def should_close(self) -> bool:
        return self._exiting

    def set_fullscreen(self, on: bool) -> None:
        pass

    def read_pixels(self) -> np.ndarray:
        """The last frame's pictures, (H, W, 3) uint8 RGB, top row first: both eyes side by side, or the equirect
        picture. Needs capture=True."""
        if not self._capture:
            raise RuntimeError("XrDisplay(capture=True) keeps the pictures read_pixels returns")
        if not self._captured:
            raise RuntimeError("no frame drawn yet")
        return np.hstack([chain.captured for chain in self._captured])

    def close(self) -> None:
        """End the session (asking the runtime, briefly, to let it go cleanly) and free everything."""
        if self.mirror is not None:
            self.mirror.close()
            self.mirror = None
            self.make_current()
        if self.session is not None and self._running:
            try:
                self.request_exit()
                deadline = time.monotonic() + 2.0
                while self._running and time.monotonic() < deadline:
                    self._pump()
                    if self._running:
                        # The runtime moves to STOPPING only while frames keep coming.
                        if self.wait_frame() is not None:
                            self.render_views(None)
            except Exception as exc:  # closing must not fail
                log.debug("ending the OpenXR session: %s", exc)
        self._destroy_session()
        self._destroy_instance()
        if self._gl is not None:
            self._gl.close()
            self._gl = None

    def _destroy_session(self) -> None:
        xr = self._xr
        if self._gl is not None and (self._swapchains or self._equirect):
            self._gl.make_current()
        for chain in self._swapchains:
            chain.destroy(xr)
        self._swapchains = []
        if self._equirect is not None:
            self._equirect.destroy(xr)
            self._equirect = None
        if self._select is not None:
            self._select.close()
            self._select = None
        for name in ("_head_space", "space"):
            space = getattr(self, name)
            if space is not None:
                xr.raw_functions.xrDestroySpace(space)
                setattr(self, name, None)
        if self.session is not None:
            xr.raw_functions.xrDestroySession(self.session)
            self.session = None
        self._running = False
        self._frame_begun = False

    def _destroy_instance(self) -> None:
        if self.instance is not None:
            self._xr.raw_functions.xrDestroyInstance(self.instance)
            self.instance = None

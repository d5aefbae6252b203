"""Swapchains: the images the runtime composites, one per eye (and one for the equirect layer), each with a
framebuffer object to draw into; the colour formats we prefer for them.

Colour: the renderer writes display-referred (gamma-encoded sRGB) values. We prefer an sRGB swapchain format and
leave GL_FRAMEBUFFER_SRGB off, so the bytes stored are our encoded values and the compositor, which samples the
image as sRGB, decodes them to the right linear light. (Turning GL_FRAMEBUFFER_SRGB on would encode them twice.)
With only linear formats on offer the picture would look too bright; we log a warning.
"""

from __future__ import annotations

import ctypes

import numpy as np
from OpenGL import GL

from vrplayer.display.xr_common import XrUnavailable, check

# GL internal formats, most preferred first: sRGB 8-bit (see the module notes on colour), then linear ones.
GL_SRGB8_ALPHA8 = 0x8C43
GL_RGBA8 = 0x8058
_FORMAT_NAMES = {
    0x8C43: "GL_SRGB8_ALPHA8", 0x8C41: "GL_SRGB8", 0x8058: "GL_RGBA8", 0x8059: "GL_RGB10_A2", 0x881A: "GL_RGBA16F",
    0x805B: "GL_RGBA16", 0x8D62: "GL_RGB565", 0x8051: "GL_RGB8", 0x881B: "GL_RGB16F", 0x8C3A: "GL_R11F_G11F_B10F",
    0x81A5: "GL_DEPTH_COMPONENT16", 0x81A6: "GL_DEPTH_COMPONENT24", 0x8CAC: "GL_DEPTH_COMPONENT32F",
    0x88F0: "GL_DEPTH24_STENCIL8", 0x8CAD: "GL_DEPTH32F_STENCIL8", 0x8D48: "GL_STENCIL_INDEX8",
}
SRGB_PREFERENCE = (GL_SRGB8_ALPHA8, 0x8C41)
_LINEAR_PREFERENCE = (GL_RGBA8, 0x8059, 0x881A, 0x805B, 0x8051)


def format_name(gl_format: int) -> str:
    return _FORMAT_NAMES.get(gl_format, hex(gl_format))


def choose_format(formats, prefer_srgb: bool) -> int:
    """The most preferred of the runtime's swapchain formats (sRGB first unless `prefer_srgb` is false)."""
    preference = (SRGB_PREFERENCE + _LINEAR_PREFERENCE) if prefer_srgb else (_LINEAR_PREFERENCE + SRGB_PREFERENCE)
    chosen = next((f for f in preference if f in formats), None)
    if chosen is None:
        raise XrUnavailable(f"the OpenXR runtime offers no colour format we can draw into ({', '.join(map(format_name, formats))})")
    return chosen


class Swapchain:
    """One swapchain (an eye's, or the equirect layer's): its GL textures, a framebuffer object per texture, the
    image acquired now."""

    def __init__(self, xr, session, gl_format: int, width: int, height: int, capture: bool):
        self.width, self.height = width, height
        info = xr.SwapchainCreateInfo(
            usage_flags=xr.SwapchainUsageFlags.COLOR_ATTACHMENT_BIT | xr.SwapchainUsageFlags.SAMPLED_BIT,
            format=gl_format, sample_count=1, width=width, height=height, face_count=1, array_size=1, mip_count=1)
        self.handle = xr.create_swapchain(session, info)
        images = xr.enumerate_swapchain_images(self.handle, xr.SwapchainImageOpenGLKHR)
        self.textures = [image.image for image in images]
        self.framebuffers = []
        for texture in self.textures:
            fbo = int(GL.glGenFramebuffers(1))
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, fbo)
            GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D, texture, 0)
            status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
            if status != GL.GL_FRAMEBUFFER_COMPLETE:
                raise XrUnavailable(f"cannot draw into the headset's swapchain images (framebuffer status {status:#x})")
            self.framebuffers.append(fbo)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        self._acquire_info = xr.SwapchainImageAcquireInfo()
        self._wait_info = xr.SwapchainImageWaitInfo(timeout=xr.INFINITE_DURATION)
        self._release_info = xr.SwapchainImageReleaseInfo()
        self._index = ctypes.c_uint32(0)
        self._xr = xr
        self.captured = np.zeros((height, width, 3), np.uint8) if capture else None

    def acquire(self, raw) -> None:
        check(self._xr, raw.xrAcquireSwapchainImage(self.handle, ctypes.byref(self._acquire_info), ctypes.byref(self._index)))
        check(self._xr, raw.xrWaitSwapchainImage(self.handle, ctypes.byref(self._wait_info)))

    def framebuffer(self) -> int:
        return self.framebuffers[self._index.value]

    def release(self, raw) -> None:
        check(self._xr, raw.xrReleaseSwapchainImage(self.handle, ctypes.byref(self._release_info)))

    def capture(self) -> None:
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.framebuffer())  # the draw callback may have changed it
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        GL.glReadPixels(0, 0, self.width, self.height, GL.GL_RGB, GL.GL_UNSIGNED_BYTE, self.captured.ctypes.data)
        self.captured[:] = self.captured[::-1].copy()

    def destroy(self, xr) -> None:
        if self.framebuffers:
            GL.glDeleteFramebuffers(len(self.framebuffers), self.framebuffers)
            self.framebuffers = []
        if self.handle is not None:
            xr.raw_functions.xrDestroySwapchain(self.handle)
            self.handle = None

"""Render: pure projection and colour maths, shaders loaded by name, and the GL renderer that uses them."""

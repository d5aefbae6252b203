#version 330 core
// A screen-aligned quad for text and status lines, placed in window pixels (origin top-left).
uniform vec4 u_rect;       // x, y, width, height in pixels
uniform vec2 u_target;     // viewport width, height in pixels
out vec2 v_uv;
void main() {
    vec2 corner = vec2(float(gl_VertexID & 1), float((gl_VertexID >> 1) & 1));
    vec2 pixel = u_rect.xy + corner * u_rect.zw;
    gl_Position = vec4(pixel.x / u_target.x * 2.0 - 1.0, 1.0 - pixel.y / u_target.y * 2.0, 0.0, 1.0);
    v_uv = corner;
}

#version 330 core
// The difference of two cuts of a film, each already drawn (by the sphere shader, with the same view) into a
// texture of the viewport's size: |A - B| * u_gain, per channel. Read texel by texel: the difference moves no
// pixel by a fraction. (A wipe, a split and a toggle need no pass: each cut is drawn into its own columns.)
uniform sampler2D u_cut_a;
uniform sampler2D u_cut_b;
uniform vec4 u_viewport;   // x, y, width, height in window pixels
uniform float u_gain;      // amplification
out vec4 frag_colour;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy - u_viewport.xy);
    vec3 a = texelFetch(u_cut_a, p, 0).rgb;
    vec3 b = texelFetch(u_cut_b, p, 0).rgb;
    frag_colour = vec4(clamp(abs(a - b) * u_gain, 0.0, 1.0), 1.0);
}

#version 330 core
// Two cuts of a film composed into one picture, each already drawn (by the sphere shader, with the same view)
// into a texture of the viewport's size. Read texel by texel: the composite moves no pixel by a fraction.
//   MODE 0 wipe:       A left of the line, B from it on, the line itself drawn light
//   MODE 1 split:      A's centre in the left half, B's centre in the right half (u_shift: where each half's
//                      pixels start in its cut's texture)
//   MODE 2 toggle:     the cut on show, whole
//   MODE 3 difference: |A - B| * u_gain, per channel
uniform sampler2D u_cut_a;
uniform sampler2D u_cut_b;
uniform int u_mode;
uniform vec4 u_viewport;   // x, y, width, height in window pixels
uniform int u_line;        // wipe: the first column of B, viewport pixels from the left
uniform ivec2 u_shift;     // split: column offset of A's half and of B's half in their textures
uniform int u_half;        // split: width of the left half
uniform int u_shown;       // toggle: 0 A, 1 B
uniform float u_gain;      // difference: amplification
out vec4 frag_colour;

const vec3 LINE_COLOUR = vec3(0.9, 0.9, 0.9);

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy - u_viewport.xy);
    if (u_mode == 0) {
        if (p.x == u_line) {
            frag_colour = vec4(LINE_COLOUR, 1.0);
        } else {
            frag_colour = p.x < u_line ? texelFetch(u_cut_a, p, 0) : texelFetch(u_cut_b, p, 0);
        }
    } else if (u_mode == 1) {
        frag_colour = p.x < u_half ? texelFetch(u_cut_a, ivec2(p.x + u_shift.x, p.y), 0)
                                   : texelFetch(u_cut_b, ivec2(p.x - u_half + u_shift.y, p.y), 0);
    } else if (u_mode == 2) {
        frag_colour = u_shown == 0 ? texelFetch(u_cut_a, p, 0) : texelFetch(u_cut_b, p, 0);
    } else {
        vec3 a = texelFetch(u_cut_a, p, 0).rgb;
        vec3 b = texelFetch(u_cut_b, p, 0).rgb;
        frag_colour = vec4(clamp(abs(a - b) * u_gain, 0.0, 1.0), 1.0);
    }
}

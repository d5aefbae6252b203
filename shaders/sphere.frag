#version 330 core
// Ray-cast projection of an equirectangular film onto the sphere around the viewer.
// Each fragment computes its own view direction (FFmpeg v360 conventions: camera x right, y down, z forward),
// turns it into longitude/latitude and samples the film there, so there is no seam at the ±180° wrap and no
// pinching at the poles. YUV planes are sampled as they were decoded and converted to RGB here.

uniform sampler2D u_plane0;  // Y (or G for planar RGB)
uniform sampler2D u_plane1;  // U, or interleaved UV (NV12 / P010), or B
uniform sampler2D u_plane2;  // V (or R)
uniform int u_layout;        // 0: three planes, 1: Y + interleaved UV, 2: Y only (gray)

uniform mat3 u_colour_matrix;  // (Y', Cb, Cr) -> R'G'B', or a plane reorder for planar RGB
uniform vec3 u_colour_scale;   // normalised texture sample -> code value -> nominal range
uniform vec3 u_colour_offset;
uniform float u_neutral_chroma;  // sample value meaning "no colour", for gray films

uniform mat3 u_view;           // camera -> world rotation
uniform vec4 u_tan_bounds;     // tangents of the view's left, right, down, up edges (left and down negative)
uniform vec4 u_viewport;       // x, y, width, height in window pixels

out vec4 frag_colour;

const float PI = 3.14159265358979;

vec3 sample_film(vec2 uv) {
    // Explicit level 0: the film has no mipmaps, and the longitude wrap must not trigger a derivative-based LOD.
    float y = textureLod(u_plane0, uv, 0.0).r;
    vec2 c;
    if (u_layout == 1) {
        c = textureLod(u_plane1, uv, 0.0).rg;
    } else if (u_layout == 2) {
        c = vec2(u_neutral_chroma);
    } else {
        c = vec2(textureLod(u_plane1, uv, 0.0).r, textureLod(u_plane2, uv, 0.0).r);
    }
    vec3 nominal = vec3(y, c) * u_colour_scale + u_colour_offset;
    return clamp(u_colour_matrix * nominal, 0.0, 1.0);
}

void main() {
    vec2 p = (gl_FragCoord.xy - u_viewport.xy) / u_viewport.zw;  // 0..1, GL's y points up
    // Camera y points down, GL's window y up. Asymmetric bounds serve headset eyes; the desktop's are symmetric.
    vec3 ray = vec3(mix(u_tan_bounds.x, u_tan_bounds.y, p.x), -mix(u_tan_bounds.z, u_tan_bounds.w, p.y), 1.0);
    vec3 d = normalize(u_view * ray);
    float lon = atan(d.x, d.z);
    float lat_down = asin(clamp(d.y, -1.0, 1.0));
    vec2 uv = vec2(lon / (2.0 * PI) + 0.5, lat_down / PI + 0.5);
    frag_colour = vec4(sample_film(uv), 1.0);
}

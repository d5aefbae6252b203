#version 330 core
// Ray-cast projection of a film onto the sphere around the viewer.
// Each fragment computes its own view direction (FFmpeg v360 conventions: camera x right, y down, z forward) and
// looks it up in the film's projection (equirectangular or a crop of it, cubemaps, EAC, fisheye, dual fisheye,
// flat screen, the film's own mesh), so there is no seam at the ±180° wrap and no pinching at the poles. The numpy
// reference of every lookup is vrplayer/render/projection.py (`eye_uv`); the functions here follow it line by line.
// YUV planes are sampled as they were decoded and converted to RGB here.
// Where each pixel samples the planes depends only on the view, so while the view stays put the player draws those
// positions once (the POSITIONS build, into a float texture) and reads them back (FROM_POSITIONS) instead of
// working them out again for every film frame: on llvmpipe that is a fifth of the frame.

uniform sampler2D u_plane0;  // Y (or G for planar RGB)
uniform sampler2D u_plane1;  // U, or interleaved UV (NV12 / P010), or B
uniform sampler2D u_plane2;  // V (or R)
// (How the planes are laid out, 0: three planes, 1: Y + interleaved UV, 2: Y only (gray), is the PLANES build
// constant, like PROJECTION: a branch on a uniform would fetch the other layouts' planes too on llvmpipe.)

// Normalised texture samples (Y', Cb, Cr) -> R'G'B' (or a plane reorder for planar RGB): the film's matrix with
// its range and bit depth folded in (vrplayer/render/colour.py), rgb = u_colour_matrix * sample + u_colour_offset.
uniform mat3 u_colour_matrix;
uniform vec3 u_colour_offset;
uniform float u_neutral_chroma;  // sample value meaning "no colour", for gray films

uniform mat3 u_view;           // camera -> world rotation
uniform vec4 u_tan_bounds;     // tangents of the view's left, right, down, up edges (left and down negative)
uniform vec4 u_viewport;       // x, y, width, height in window pixels

// The film's layout (see vrplayer/layout.py).
// (The projection itself, 0 equirect, 1 EAC, 2 cubemap 3x2, 3 cubemap 6x1, 4 fisheye, 5 dual fisheye, 6 flat,
// 7 mesh, is the PROJECTION build constant: see locate.)
uniform vec4 u_crop;           // equirect: fractions of the full 360x180 picture cut off left, top, right, bottom
uniform vec2 u_lens;           // fisheye: 1 / half the lens FOV (radians); flat: tan of half the screen's FOV (x, y)
uniform float u_eac_pad;       // EAC: pixels round the outside of each row (v360 after YouTube's files: 2; GoPro MAX: 0)
uniform vec4 u_circle[2];      // fisheye: each eye's lens circle; dual fisheye: the left and right half's (see lens_point)
uniform vec2 u_eye_size;       // one eye's picture, pixels
uniform vec2 u_picture_size;   // the whole decoded picture, pixels
uniform vec2 u_eye_origin[2];  // where the left and the right eye's picture start in it, pixels (after any swap)
uniform vec4 u_face_rect[6];   // cubemaps: each face's rectangle in the eye's picture, pixels (x0, y0, w, h)
uniform int u_wrap;            // 1: the texture repeats across the ±180° seam (a 360° picture as wide as the texture);
                               // 0: clamp to the eye's picture
uniform vec2 u_half_texel[2];  // half a texel of the first plane and of the others (which share one size)
uniform int u_eye;             // 0 left eye, 1 right eye (the ANAGLYPH build shows both)
uniform float u_brightness;    // 1, or less while the picture fades out (a kiosk viewer took the headset off)
uniform sampler2D u_positions; // FROM_POSITIONS: what the POSITIONS build wrote for this viewport and view
// PROJECTION 7, the film's own mesh (vrplayer/render/mesh_lookup.py, whose `mesh_uv` this follows): a coarse
// equirectangular grid names a triangle near each direction, per eye (stacked: u_mesh_row); each triangle is five
// texels, a.xyz u_a, b.xyz u_b, c.xyz u_c, (v_a, v_b, v_c), and its neighbours across the edges opposite a, b, c.
uniform isampler2D u_mesh_cells;
uniform sampler2D u_mesh_triangles;
uniform ivec2 u_mesh_grid;     // one eye's cells: columns, rows
uniform int u_mesh_row[2];     // where the left and the right eye's cells start
// OVERVIEW: the headset view outlined on the unwrapped picture: its world -> camera rotation, the tangents of half
// its horizontal and vertical field of view (x < 0: no outline).
uniform mat3 u_outline_view;
uniform vec2 u_outline_tan;

out vec4 frag_colour;

const float PI = 3.14159265358979;
const int RIGHT = 0, LEFT = 1, UP = 2, DOWN = 3, FRONT = 4, BACK = 5;  // cube faces, v360's order

// Dubois' least-squares red-cyan anaglyph matrices: less ghosting and truer colour than taking channels as they are.
const mat3 ANAGLYPH_LEFT = mat3(0.437, -0.062, -0.048, 0.449, -0.062, -0.050, 0.164, -0.024, -0.017);
const mat3 ANAGLYPH_RIGHT = mat3(-0.011, 0.377, -0.026, -0.032, 0.761, -0.093, -0.007, 0.009, 1.234);

// Where the planes are sampled: the first plane's texture coordinates (xy) and the other planes' (zw), each kept
// half a texel inside `rect` (normalised, min.xy max.xy), so bilinear filtering never reaches into the other eye or
// another cube face; with `clamp_s` false the texture repeats across. NOT_COVERED where the film does not reach.
const vec4 NOT_COVERED = vec4(-2.0);

vec2 inside(vec2 inset, vec2 uv, vec4 rect, bool clamp_s) {
    vec2 lo = rect.xy + inset, hi = rect.zw - inset;
    uv.y = clamp(uv.y, lo.y, hi.y);
    if (clamp_s) uv.x = clamp(uv.x, lo.x, hi.x);
    return uv;
}

vec4 plane_positions(vec2 uv, vec4 rect, bool clamp_s) {
    return vec4(inside(u_half_texel[0], uv, rect, clamp_s), inside(u_half_texel[1], uv, rect, clamp_s));
}

// The film's colour at those positions (black where not covered). Explicit level 0: the film has no mipmaps, and
// the longitude wrap must not trigger a derivative-based LOD. Not clamped to 0..1 here: writing to the 8-bit
// picture does that, and costs llvmpipe nothing; builds that go on computing with the colour clamp it first.
vec3 film_colour(vec4 at) {
    float y = textureLod(u_plane0, at.xy, 0.0).r;
#if PLANES == 1
    vec2 c = textureLod(u_plane1, at.zw, 0.0).rg;
#elif PLANES == 2
    vec2 c = vec2(u_neutral_chroma);
#else
    vec2 c = vec2(textureLod(u_plane1, at.zw, 0.0).r, textureLod(u_plane2, at.zw, 0.0).r);
#endif
    return at.x > -1.0 ? u_colour_matrix * vec3(y, c) + u_colour_offset : vec3(0.0);
}

// -- projections: unit world direction -> position in the eye's picture (pixels) and the rectangle to sample in --

int cube_face(vec3 d, out vec2 ab) {
    // The largest component picks the face (a tie between a side and up/down goes to the side); (a, b) run right
    // and down on the face as seen from inside, in [-1, 1].
    vec3 m = abs(d);
    if (m.y > m.x && m.y > m.z) {
        ab = vec2(d.x, d.y < 0.0 ? d.z : -d.z) / m.y;
        return d.y < 0.0 ? UP : DOWN;
    }
    if (m.x >= m.z) {
        ab = vec2(d.x > 0.0 ? -d.z : d.z, d.y) / m.x;
        return d.x > 0.0 ? RIGHT : LEFT;
    }
    ab = vec2(d.z > 0.0 ? d.x : -d.x, d.y) / m.z;
    return d.z > 0.0 ? FRONT : BACK;
}

bool equirect(vec3 d, out vec2 px, out vec4 rect) {
    vec2 full = vec2(atan(d.x, d.z) / (2.0 * PI) + 0.5, asin(clamp(d.y, -1.0, 1.0)) / PI + 0.5);
    vec2 uv = (full - u_crop.xy) / (1.0 - u_crop.xy - u_crop.zw);
    px = uv * u_eye_size;
    rect = vec4(0.0, 0.0, u_eye_size);
    return all(greaterThanEqual(uv, vec2(0.0))) && all(lessThanEqual(uv, vec2(1.0)));
}

bool cubemap(vec3 d, out vec2 px, out vec4 rect) {
    vec2 ab;
    vec4 face = u_face_rect[cube_face(d, ab)];  // faces are stored in v360's default order "rludfb", unturned
    px = face.xy + 0.5 * (ab + 1.0) * face.zw;
    rect = vec4(face.xy, face.xy + face.zw);
    return true;
}

bool eac(vec3 d, out vec2 px, out vec4 rect) {
    // Rows: left, front, right / down, back, up; the bottom row's faces are stored turned a quarter turn so each
    // row is one continuous strip. Equal angles get equal pixels: s = 2/pi atan(t) + 1/2.
    vec2 ab;
    int face = cube_face(d, ab);
    float slot;
    if (face == LEFT) slot = 0.0;
    else if (face == FRONT) slot = 1.0;
    else if (face == RIGHT) slot = 2.0;
    else if (face == DOWN) { slot = 3.0; ab = vec2(ab.y, -ab.x); }
    else if (face == BACK) { slot = 4.0; ab = vec2(-ab.y, ab.x); }
    else { slot = 5.0; ab = vec2(ab.y, -ab.x); }
    vec2 st = (2.0 / PI) * atan(ab) + 0.5;
    float column = mod(slot, 3.0), row = floor(slot / 3.0);
    vec2 pad = u_eac_pad / u_eye_size;
    vec2 uv = vec2((st.x + column) * (1.0 - 2.0 * pad.x) / 3.0 + pad.x, st.y * (0.5 - 2.0 * pad.y) + pad.y + 0.5 * row);
    px = uv * u_eye_size;
    // Bilinear taps stay in the face's row: the other row's faces are elsewhere on the sphere (with no padding, as
    // a GoPro's picture has, they touch).
    rect = vec4(0.0, 0.5 * row * u_eye_size.y, u_eye_size.x, 0.5 * (row + 1.0) * u_eye_size.y);
    return true;
}

// The point r (of the radius) out from a lens circle's centre along the image direction `along`, turned with the
// circle (x, y: centre in eye pixels, z: radius in pixels, w: clockwise turn in radians).
vec2 lens_point(vec2 along, float r, vec4 circle) {
    float c = cos(circle.w), s = sin(circle.w);
    return circle.xy + r * circle.z * vec2(c * along.x - s * along.y, s * along.x + c * along.y);
}

bool fisheye(vec3 d, int eye, out vec2 px, out vec4 rect) {
    // Equidistant lens looking forward; its circle where u_circle says (centred, the shorter side its diameter,
    // unless the film's calibration says otherwise).
    float rho = length(d.xy);
    float r = atan(rho, d.z) * u_lens.x;
    vec2 across = rho > 0.0 ? d.xy / rho : vec2(0.0);
    px = lens_point(across, r, u_circle[eye]);
    rect = vec4(0.0, 0.0, u_eye_size);
    return r <= 1.0;
}

bool dual_fisheye(vec3 d, out vec2 px, out vec4 rect) {
    // Front lens (+z) in the right half, back lens in the left half (mirrored: it looks backwards); chosen by z.
    float half_w = floor(u_eye_size.x / 2.0);
    bool front = d.z >= 0.0;
    float rho = length(d.xy);
    float r = acos(clamp(abs(d.z), 0.0, 1.0)) * u_lens.x;
    vec2 across = rho > 0.0 ? d.xy / rho : vec2(0.0);
    if (!front) across.x = -across.x;
    float x0 = front ? u_eye_size.x - half_w : 0.0;
    px = lens_point(across, r, u_circle[front ? 1 : 0]);
    rect = vec4(x0, 0.0, x0 + half_w, u_eye_size.y);
    return r <= 1.0;
}

bool flat_screen(vec3 d, out vec2 px, out vec4 rect) {
    vec2 uv = 0.5 + 0.5 * (d.xy / d.z) / u_lens;
    px = uv * u_eye_size;
    rect = vec4(0.0, 0.0, u_eye_size);
    return d.z > 0.0 && all(greaterThanEqual(uv, vec2(0.0))) && all(lessThanEqual(uv, vec2(1.0)));
}

const int MESH_TRIANGLES_PER_ROW = 800;
const float MESH_INSIDE = -1e-6;  // a weight this far below 0 is still inside (rays along a shared edge)

vec4 mesh_texel(int t, int k) {
    return texelFetch(u_mesh_triangles, ivec2((t % MESH_TRIANGLES_PER_ROW) * 5 + k, t / MESH_TRIANGLES_PER_ROW), 0);
}

// Barycentric weights of where the ray d meets the triangle's plane: what GL's perspective-correct interpolation
// gives when it draws the triangle from the viewer's place.
vec3 mesh_weights(vec3 d, int t) {
    vec3 a = mesh_texel(t, 0).xyz, b = mesh_texel(t, 1).xyz, c = mesh_texel(t, 2).xyz;
    vec3 w = vec3(dot(d, cross(b, c)), dot(d, cross(c, a)), dot(d, cross(a, b)));
    return w / (w.x + w.y + w.z);
}

// The least weight and the triangle across the edge it is beyond (-1: the mesh's own edge).
float mesh_beyond(vec3 w, int t, out float least) {
    vec3 across = mesh_texel(t, 4).xyz;
    least = min(w.x, min(w.y, w.z));
    return least == w.x ? across.x : (least == w.y ? across.y : across.z);
}

bool mesh(vec3 d, int eye, out vec2 px, out vec4 rect) {
    rect = vec4(0.0, 0.0, u_eye_size);
    px = vec2(0.0);
    float lon = atan(d.x, d.z), lat = -asin(clamp(d.y, -1.0, 1.0));
    int column = int(floor((lon / (2.0 * PI) + 0.5) * float(u_mesh_grid.x))) % u_mesh_grid.x;
    int row = clamp(int(floor((0.5 - lat / PI) * float(u_mesh_grid.y))), 0, u_mesh_grid.y - 1);
    int t = texelFetch(u_mesh_cells, ivec2(column, row + u_mesh_row[eye]), 0).r;
    if (t < 0) return false;
    vec3 w = mesh_weights(d, t);
    float least;
    float beyond = mesh_beyond(w, t, least);
    if (least < MESH_INSIDE && beyond >= 0.0) {  // outside the cell's triangle: one step to its neighbour
        t = int(beyond);
        w = mesh_weights(d, t);
        beyond = mesh_beyond(w, t, least);
    }
    vec2 uv = vec2(dot(w, vec3(mesh_texel(t, 0).w, mesh_texel(t, 1).w, mesh_texel(t, 2).w)), dot(w, mesh_texel(t, 3).xyz));
    px = uv * u_eye_size;
    return !(least < MESH_INSIDE && beyond < 0.0);
}

// The projection is chosen when the shader is built (PROJECTION, the same codes as u_projection): llvmpipe
// evaluates every branch of a dispatch on a uniform, which cost a sixth of the frame.
bool locate(vec3 d, int eye, out vec2 px, out vec4 rect) {
#if PROJECTION == 7
    return mesh(d, eye, px, rect);
#elif PROJECTION == 1
    return eac(d, px, rect);
#elif PROJECTION == 2 || PROJECTION == 3
    return cubemap(d, px, rect);
#elif PROJECTION == 4
    return fisheye(d, eye, px, rect);
#elif PROJECTION == 5
    return dual_fisheye(d, px, rect);
#elif PROJECTION == 6
    return flat_screen(d, px, rect);
#else
    return equirect(d, px, rect);
#endif
}

// Where one eye's picture is sampled for direction d. Then one bilinear fetch per plane: llvmpipe runs both
// sides of a branch that differs between pixels, so a second fetch anywhere costs every pixel.
vec4 eye_positions(vec3 d, int eye) {
    vec2 px;
    vec4 rect;
    bool covered = locate(d, eye, px, rect);
    vec2 origin = u_eye_origin[eye];
    vec4 rect_uv = vec4(origin + rect.xy, origin + rect.zw) / u_picture_size.xyxy;
    // A 360° picture as wide as the texture repeats across the seam; one eye of a side-by-side 360° picture stops
    // at its own edge columns (the seam's last half texel repeats the edge column instead of blending across it).
    vec4 at = plane_positions((origin + px) / u_picture_size, rect_uv, u_wrap != 1);
    return covered ? at : NOT_COVERED;
}

// The direction (world axes) through the viewport's point p (0..1, GL's y up).
vec3 view_direction(vec2 p) {
    // Camera y points down, GL's window y up. Asymmetric bounds serve headset eyes; the desktop's are symmetric.
    vec3 ray = vec3(mix(u_tan_bounds.x, u_tan_bounds.y, p.x), -mix(u_tan_bounds.z, u_tan_bounds.w, p.y), 1.0);
    return normalize(u_view * ray);
}

// The overview: the viewport's point p (0..1, GL's y up) as a direction of the whole-sphere equirectangular
// picture, the film's frame centre in the middle (v360 axes: y down, so the top row is straight up).
vec3 overview_direction(vec2 p) {
    float lon = (p.x - 0.5) * 2.0 * PI, lat = (p.y - 0.5) * PI;
    return vec3(cos(lat) * sin(lon), -sin(lat), cos(lat) * cos(lon));
}

// Whether a direction falls inside the outlined headset view (a rectangle of tangents on the camera's z = 1 plane).
bool in_outline(vec3 d) {
    vec3 c = u_outline_view * d;
    return c.z > 0.0 && abs(c.x) <= u_outline_tan.x * c.z && abs(c.y) <= u_outline_tan.y * c.z;
}

void main() {
    vec2 p = (gl_FragCoord.xy - u_viewport.xy) / u_viewport.zw;  // 0..1, GL's y points up
#if defined(OVERVIEW)
    // Whatever the film's projection, every direction of the sphere looked up through it; the headset's view is
    // the set of directions inside its frustum, so its outline is exact wherever it falls (curved, across the seam,
    // over a pole): a pixel is on it when it and a neighbour a pixel away disagree on being inside.
    // (u_view here turns the world into the picture's own axes: identity, or a level horizon's turn.)
    vec3 d = overview_direction(p);
    vec3 colour = film_colour(eye_positions(u_view * d, u_eye));
    if (u_outline_tan.x > 0.0) {
        vec2 px = 1.0 / u_viewport.zw;
        bool inside = in_outline(d);
        bool edge = inside != in_outline(overview_direction(p + vec2(px.x, 0.0)))
                 || inside != in_outline(overview_direction(p - vec2(px.x, 0.0)))
                 || inside != in_outline(overview_direction(p + vec2(0.0, px.y)))
                 || inside != in_outline(overview_direction(p - vec2(0.0, px.y)));
        colour = edge ? vec3(1.0, 0.85, 0.0) : (inside ? colour : 0.55 * colour);
    }
    frag_colour = vec4(colour, 1.0);
#elif defined(POSITIONS)
    frag_colour = eye_positions(view_direction(p), u_eye);
#else
#if defined(UNWRAP)
    // The eye's picture itself, RGB, top row at the top of the viewport: for a headset's equirect layer, which the
    // compositor samples on the sphere at display time.
    vec2 origin = u_eye_origin[u_eye];
    vec4 rect_uv = vec4(origin, origin + u_eye_size) / u_picture_size.xyxy;
    vec3 colour = film_colour(plane_positions((origin + vec2(p.x, 1.0 - p.y) * u_eye_size) / u_picture_size, rect_uv, true));
#elif defined(FROM_POSITIONS)
    vec3 colour = film_colour(texelFetch(u_positions, ivec2(gl_FragCoord.xy - u_viewport.xy), 0)) * u_brightness;
#elif defined(ANAGLYPH)
    // Its own build: llvmpipe runs both sides of even a uniform branch, and the second eye's fetches would slow
    // every other mode down.
    vec3 d = view_direction(p);
    vec3 left = clamp(film_colour(eye_positions(d, 0)), 0.0, 1.0), right = clamp(film_colour(eye_positions(d, 1)), 0.0, 1.0);
    vec3 colour = clamp(ANAGLYPH_LEFT * left + ANAGLYPH_RIGHT * right, 0.0, 1.0);
    colour *= u_brightness;
#else
    vec3 colour = film_colour(eye_positions(view_direction(p), u_eye)) * u_brightness;
#endif
#ifdef LINEAR_OUTPUT
    // A headset swapchain that holds linear light: decode our display-referred values (the sRGB curve).
    colour = clamp(colour, 0.0, 1.0);
    colour = mix(colour / 12.92, pow((colour + 0.055) / 1.055, vec3(2.4)), step(0.04045, colour));
#endif
    frag_colour = vec4(colour, 1.0);
#endif
}

#version 330 core
// A card over the film, as a grid of cells (so a card on the sphere follows its curve): in view, a rectangle of
// the head's tangent plane; on the sphere, a region of longitude and latitude. See render/placement.py, whose
// card_points and project are this shader's reference.
uniform vec4 u_rect;        // left, top, right, bottom: tangents (y up) in view; radians of lon, lat on the sphere
uniform int u_on_sphere;    // 0: in view, 1: on the sphere
uniform ivec2 u_grid;       // cells across and down
uniform mat3 u_to_eye;      // card points -> this eye's camera axes (x right, y down, z forward)
uniform mat4 u_clip;        // camera -> clip coordinates of this eye's frustum
uniform vec3 u_offset;      // in view: this eye's place from the middle of the eyes over the card's distance
                            // (camera axes), so both eyes see the card at that depth; 0 on a desktop
out vec2 v_uv;

const ivec2 CORNERS[6] = ivec2[6](ivec2(0, 0), ivec2(1, 0), ivec2(0, 1), ivec2(0, 1), ivec2(1, 0), ivec2(1, 1));

void main() {
    int cell = gl_VertexID / 6;
    ivec2 corner = ivec2(cell % u_grid.x, cell / u_grid.x) + CORNERS[gl_VertexID % 6];
    vec2 uv = vec2(corner) / vec2(u_grid);  // v from the top
    vec2 ab = mix(u_rect.xy, u_rect.zw, uv);
    vec3 point = u_on_sphere == 1 ? vec3(cos(ab.y) * sin(ab.x), -sin(ab.y), cos(ab.y) * cos(ab.x))
                                  : vec3(ab.x, -ab.y, 1.0);
    gl_Position = u_clip * vec4(u_to_eye * point - u_offset, 1.0);
    v_uv = uv;
}

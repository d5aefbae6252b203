#version 330 core
// Text from a one-channel coverage texture, over a translucent backing so it reads on any picture; or a picture's
// own colours and opacity (a heat-map).
uniform sampler2D u_text;
uniform int u_picture;      // 1: the texture is RGBA to show as it is
uniform vec4 u_colour;
uniform vec4 u_backing;
uniform float u_fade;       // 1: as made; going to 0 with the picture in a fade-out (captions go with the film)
in vec2 v_uv;
out vec4 frag_colour;
void main() {
    if (u_picture == 1) {
        frag_colour = texture(u_text, v_uv);
        frag_colour.a *= u_fade;
        return;
    }
    float coverage = texture(u_text, v_uv).r;
    frag_colour = mix(u_backing, u_colour, coverage);
    frag_colour.a *= u_fade;
}

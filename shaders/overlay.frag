#version 330 core
// Text from a one-channel coverage texture, over a translucent backing so it reads on any picture.
uniform sampler2D u_text;
uniform vec4 u_colour;
uniform vec4 u_backing;
in vec2 v_uv;
out vec4 frag_colour;
void main() {
    float coverage = texture(u_text, v_uv).r;
    frag_colour = mix(u_backing, u_colour, coverage);
}
